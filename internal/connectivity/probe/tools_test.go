package probe

// Real tool outputs: every scenario below is parsed from its recording in testdata/ on every test
// run, and — when the tool exists on this machine and the test is not -short — also run for real
// against a loopback server and parsed again. CNIMIGRATE_RECORD_TOOLS=1 rewrites the recordings:
//
//	CNIMIGRATE_RECORD_TOOLS=1 go test -run 'TestToolOutputs' ./internal/connectivity/probe/
//
// Scenarios marked netns need root, unshare and iptables: they run the tool in a new network
// namespace of their own whose loopback drops the traffic (what a NetworkPolicy drop looks like).

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

const (
	recordEnv   = "CNIMIGRATE_RECORD_TOOLS"
	echoFQDN    = "echo.cnimigrate-connectivity-abcde.svc.cluster.local"
	echoAddress = "10.43.12.34"
)

type toolScenario struct {
	file  string
	tool  string
	netns string // iptables rule for the private netns; "" runs in the host netns
	run   func(t *testing.T) []string
	check func(t *testing.T, out string)
}

func loopURL(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) + "/" }

func curlScenario(file string, samples int, timeout time.Duration, server func(int, *net.TCPConn), netns string, check func(*testing.T, []Sample)) toolScenario {
	// A failing path stops after MaxFailedInARow samples.
	want := samples
	if server == nil || netns != "" {
		want = min(samples, MaxFailedInARow)
	}
	return toolScenario{file: file, tool: "curl", netns: netns,
		run: func(t *testing.T) []string {
			port := 9
			if server != nil {
				port = tcpServer(t, server)
			} else if netns == "" {
				port = closedPort(t)
			}
			return CurlCommand(loopURL(port), samples, timeout)
		},
		check: func(t *testing.T, out string) {
			s, err := ParseCurl(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(s) != want {
				t.Fatalf("got %d samples, want %d: %q", len(s), want, out)
			}
			check(t, s)
		}}
}

func allOutcome(want result.Outcome) func(*testing.T, []Sample) {
	return func(t *testing.T, s []Sample) {
		t.Helper()
		for i, x := range s {
			if x.Outcome != want {
				t.Errorf("sample %d: outcome %s (%s), want %s", i, x.Outcome, x.Err, want)
			}
			if want == result.Success && (!x.HasLatency || x.LatencyMs <= 0 || x.Detail != "HTTP 200") {
				t.Errorf("sample %d: success without latency or HTTP 200: %+v", i, x)
			}
			if want != result.Success && (x.HasLatency || x.Err == "") {
				t.Errorf("sample %d: failed sample must carry an error and no latency: %+v", i, x)
			}
		}
	}
}

func digScenario(file string, name string, samples int, records map[string]string, silent bool, closed bool, want result.Outcome) toolScenario {
	return toolScenario{file: file, tool: "dig",
		run: func(t *testing.T) []string {
			var port int
			if closed {
				port = closedPort(t)
			} else {
				port = dnsServer(t, records, silent)
			}
			return DigCommand(DigQuery{Name: name, Samples: samples, Timeout: time.Second, Server: "127.0.0.1", Port: port})
		},
		check: func(t *testing.T, out string) {
			s, err := ParseDig(out, echoAddress)
			if err != nil {
				t.Fatal(err)
			}
			if want := wantDig(samples, want); len(s) != want {
				t.Fatalf("got %d samples, want %d: %q", len(s), want, out)
			}
			for i, x := range s {
				if x.Outcome != want {
					t.Errorf("sample %d: outcome %s (%s), want %s", i, x.Outcome, x.Err, want)
				}
				if want == result.Success && (!x.HasLatency || x.Detail != "A "+echoAddress) {
					t.Errorf("sample %d: %+v, want a latency and the A record", i, x)
				}
			}
		}}
}

// wantDig is how many samples a dig loop prints: failing samples stop it after MaxFailedInARow.
func wantDig(samples int, outcome result.Outcome) int {
	if outcome == result.Timeout || outcome == result.Refused {
		return min(samples, MaxFailedInARow)
	}
	return samples
}

var echoRecords = map[string]string{echoFQDN + ".": echoAddress, "broken.example.": "SERVFAIL", "other.example.": "192.0.2.7"}

func toolScenarios() []toolScenario {
	return []toolScenario{
		curlScenario("curl-success.txt", 5, 2*time.Second, serveOK, "", allOutcome(result.Success)),
		curlScenario("curl-refused.txt", 10, 2*time.Second, nil, "", allOutcome(result.Refused)),
		curlScenario("curl-timeout-transfer.txt", 2, time.Second, serveStall, "", allOutcome(result.Timeout)),
		curlScenario("curl-reset.txt", 2, 2*time.Second, serveReset, "", allOutcome(result.Reset)),
		curlScenario("curl-connect-timeout.txt", 5, time.Second, nil,
			"iptables -A INPUT -p tcp --dport 9 -j DROP", allOutcome(result.Timeout)),
		curlScenario("curl-flaky.txt", 4, 2*time.Second, serveAlternating, "", func(t *testing.T, s []Sample) {
			v := Judge(ExpectSuccess, s)
			if v.Status != result.Failed || v.Observed != "2/4 reset, 2 success" || v.Latency == nil || v.Latency.N != 2 {
				t.Errorf("flaky path judged %+v", v)
			}
		}),
		digScenario("dig-success.txt", echoFQDN, 3, echoRecords, false, false, result.Success),
		digScenario("dig-nxdomain.txt", "missing."+echoFQDN, 1, echoRecords, false, false, result.NXDomain),
		digScenario("dig-servfail.txt", "broken.example", 1, echoRecords, false, false, result.DNSError),
		digScenario("dig-wrong-answer.txt", "other.example", 1, echoRecords, false, false, result.DNSError),
		digScenario("dig-timeout.txt", echoFQDN, 2, nil, true, false, result.Timeout),
		digScenario("dig-timeout-stops-early.txt", echoFQDN, 5, nil, true, false, result.Timeout),
		digScenario("dig-refused.txt", echoFQDN, 1, nil, false, true, result.Refused),
		pingScenario("ping-success.txt", "", 5, 5, result.Success),
		pingScenario("ping-loss.txt", "iptables -A INPUT -p icmp -j DROP", 3, 0, result.Timeout),
		iperfScenario("iperf3-success.json", true),
		iperfScenario("iperf3-refused.json", false),
	}
}

func pingScenario(file, netns string, count, replies int, lost result.Outcome) toolScenario {
	return toolScenario{file: file, tool: "ping", netns: netns,
		run: func(t *testing.T) []string { return PingCommand("127.0.0.1", count, time.Second) },
		check: func(t *testing.T, out string) {
			s, err := ParsePing(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(s) != count {
				t.Fatalf("got %d samples, want %d", len(s), count)
			}
			ok := 0
			for _, x := range s {
				if x.Outcome == result.Success {
					ok++
					if !x.HasLatency || x.LatencyMs <= 0 {
						t.Errorf("reply without rtt: %+v", x)
					}
				} else if x.Outcome != lost {
					t.Errorf("lost sample outcome %s, want %s", x.Outcome, lost)
				}
			}
			if ok != replies {
				t.Errorf("%d replies, want %d", ok, replies)
			}
		}}
}

func iperfScenario(file string, serve bool) toolScenario {
	return toolScenario{file: file, tool: "iperf3",
		run: func(t *testing.T) []string {
			port := closedPort(t)
			if serve {
				srv := exec.Command("iperf3", "-s", "-p", strconv.Itoa(port))
				if err := srv.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
				waitListening(t, port)
			}
			cmd := IperfCommand("127.0.0.1", port, 1, 2*time.Second)
			return cmd
		},
		check: func(t *testing.T, out string) {
			s, tp, err := ParseIperf(out)
			if err != nil {
				t.Fatal(err)
			}
			if serve {
				if s.Outcome != result.Success || tp == nil || tp.ReceivedBitsPerSecond <= 0 || tp.Seconds <= 0 {
					t.Errorf("iperf3 success parsed as %+v, %+v", s, tp)
				}
				return
			}
			if s.Outcome != result.Refused || !strings.Contains(s.Err, "refused") {
				t.Errorf("iperf3 to a closed port parsed as %+v", s)
			}
		}}
}

func TestToolOutputsRecorded(t *testing.T) {
	t.Parallel()
	for _, sc := range toolScenarios() {
		t.Run(sc.file, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join("testdata", sc.file))
			if err != nil {
				t.Fatalf("recording missing (record it with %s=1): %v", recordEnv, err)
			}
			sc.check(t, string(b))
		})
	}
}

func TestToolOutputsLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real tools against loopback servers")
	}
	record := os.Getenv(recordEnv) == "1"
	for _, sc := range toolScenarios() {
		t.Run(sc.file, func(t *testing.T) {
			if _, err := exec.LookPath(sc.tool); err != nil {
				t.Fatalf("%s is not installed (listed in hack/deps.txt; run make deps)", sc.tool)
			}
			out, err := runLocal(t, sc)
			if err != nil && os.Geteuid() != 0 {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			sc.check(t, out)
			if record && !t.Failed() {
				if err := os.WriteFile(filepath.Join("testdata", sc.file), []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// runLocal runs the scenario's production command with sh, in a private netns when asked.
func runLocal(t *testing.T, sc toolScenario) (string, error) {
	argv := sc.run(t)
	if sc.netns != "" {
		if os.Geteuid() != 0 {
			return "", fmt.Errorf("needs root for a private network namespace")
		}
		for _, tool := range []string{"unshare", "iptables", "ip"} {
			if _, err := exec.LookPath(tool); err != nil {
				return "", fmt.Errorf("needs %s", tool)
			}
		}
		script := "ip link set lo up && " + sc.netns + " && " + argv[2]
		argv = []string{"unshare", "-n", "sh", "-c", script}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
	if ctx.Err() != nil {
		t.Fatalf("%v hung: %v", argv, ctx.Err())
	}
	if sc.netns != "" && err != nil && len(out) == 0 {
		return "", fmt.Errorf("private netns unavailable: %v", err)
	}
	return string(out), nil
}
