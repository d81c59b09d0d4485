package probe

import (
	"strings"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

// Outputs in documented formats that cannot be recorded on this machine (see testdata/README.md).
const (
	// busybox ping (alpine images without iputils): "seq=" and "packets received".
	busyboxPing = `PING 10.42.1.7 (10.42.1.7): 56 data bytes
64 bytes from 10.42.1.7: seq=0 ttl=62 time=0.412 ms
64 bytes from 10.42.1.7: seq=1 ttl=62 time=0.389 ms

--- 10.42.1.7 ping statistics ---
3 packets transmitted, 2 packets received, 33% packet loss
round-trip min/avg/max = 0.389/0.400/0.412 ms
cnimigrate-exit 1
`
	// iputils ping when a router answers "Destination Host Unreachable".
	unreachablePing = `PING 10.42.9.9 (10.42.9.9) 56(84) bytes of data.
From 10.42.1.1 icmp_seq=1 Destination Host Unreachable
From 10.42.1.1 icmp_seq=2 Destination Host Unreachable

--- 10.42.9.9 ping statistics ---
2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1001ms
cnimigrate-exit 1
`
	// curl exit 6 (the name did not resolve), curl(1) EXIT CODES.
	curlResolve = "cnimigrate-sample 6 000 0.000000 0.002113 Could not resolve host: example.invalid\n"
	// curl < 7.75 leaves unknown --write-out variables empty (and warns on stderr).
	curlOld = "cnimigrate-sample  200 0.000412 0.001203 \n"
	// curl 7 with an ICMP reject: "No route to host".
	curlNoRoute = "cnimigrate-sample 7 000 0.000000 3.061220 Failed to connect to 10.42.2.9 port 8080 after 3061 ms: No route to host\n"
	// curl 8.x wording for a refused connection.
	curl8Refused = "cnimigrate-sample 7 000 0.000000 0.000301 Failed to connect to 10.42.2.9 port 8080 after 0 ms: Could not connect to server\n"
)

func TestParseDocumentedFormats(t *testing.T) {
	t.Parallel()
	s, err := ParsePing(busyboxPing)
	if err != nil || len(s) != 3 || s[0].Outcome != result.Success || s[0].LatencyMs != 0.412 || s[2].Outcome != result.Timeout {
		t.Errorf("busybox ping: %+v, %v", s, err)
	}
	s, err = ParsePing(unreachablePing)
	if err != nil || len(s) != 2 || s[0].Outcome != result.Unreachable || !strings.Contains(s[0].Err, "Destination Host Unreachable") {
		t.Errorf("unreachable ping: %+v, %v", s, err)
	}
	if _, err := ParsePing("sh: ping: not found\ncnimigrate-exit 127\n"); err == nil {
		t.Error("ping without statistics must be an error, not zero samples")
	}
	for _, tc := range []struct {
		out  string
		want result.Outcome
	}{
		{curlResolve, result.DNSError},
		{curlNoRoute, result.Unreachable},
		{curl8Refused, result.Refused},
	} {
		s, err := ParseCurl(tc.out)
		if err != nil || len(s) != 1 || s[0].Outcome != tc.want || s[0].Err == "" {
			t.Errorf("ParseCurl(%q) = %+v, %v; want %s", tc.out, s, err, tc.want)
		}
	}
	if _, err := ParseCurl(curlOld); err == nil || !strings.Contains(err.Error(), "7.75") {
		t.Errorf("old curl must be a clear error naming the version it needs, got %v", err)
	}
	if s, err := ParseCurl("kwok: exec is not supported\n"); err != nil || len(s) != 0 {
		t.Errorf("foreign output yields no samples (judged as a failure), got %+v, %v", s, err)
	}
	if _, _, err := ParseIperf("iperf3: error - unable to connect"); err == nil {
		t.Error("iperf3 output without JSON must be an error")
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	ok := Sample{Outcome: result.Success, LatencyMs: 1, HasLatency: true, TotalMs: 2, Detail: "HTTP 200"}
	slow := Sample{Outcome: result.Success, LatencyMs: 3, HasLatency: true, TotalMs: 4, Detail: "HTTP 200"}
	to := Sample{Outcome: result.Timeout, Err: "curl exit 28: Connection timed out after 5001 milliseconds"}
	refused := Sample{Outcome: result.Refused, Err: "curl exit 7: Couldn't connect to server"}
	tests := []struct {
		name     string
		exp      Expectation
		samples  []Sample
		status   result.Status
		observed string
		errHas   string
		latN     int
	}{
		{"all succeed", ExpectSuccess, []Sample{ok, slow, ok}, result.Passed, "3/3 success", "", 3},
		{"one timeout fails an allow probe", ExpectSuccess, []Sample{ok, to, ok}, result.Failed,
			"2/3 success, 1 timeout", "1/3 samples unexpected: curl exit 28", 2},
		{"deny probe passes on timeout", ExpectBlocked, []Sample{to, to}, result.Passed, "2/2 timeout", "", 0},
		{"deny probe passes on refused", ExpectBlocked, []Sample{refused}, result.Passed, "1/1 refused", "", 0},
		{"deny probe fails when traffic gets through", ExpectBlocked, []Sample{ok, to}, result.Failed,
			"1/2 success, 1 timeout", "success (HTTP 200)", 1},
		{"no samples is a failure, never a pass", ExpectSuccess, nil, result.Failed, "no samples", "no result", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := Judge(tt.exp, tt.samples)
			if v.Status != tt.status || v.Observed != tt.observed || !strings.Contains(v.Error, tt.errHas) {
				t.Errorf("Judge = %+v, want status %s observed %q error containing %q", v, tt.status, tt.observed, tt.errHas)
			}
			n := 0
			if v.Latency != nil {
				n = v.Latency.N
			}
			if n != tt.latN {
				t.Errorf("latency from %d samples, want %d (only successful samples count)", n, tt.latN)
			}
		})
	}
	if got := ExpectBlocked.String(); got != "timeout or refused" {
		t.Errorf("ExpectBlocked = %q", got)
	}
}

func TestCommandsQuoteTheirArguments(t *testing.T) {
	t.Parallel()
	cmd := CurlCommand("http://x/'; rm -rf /; '", 2, 1500*time.Millisecond)
	if len(cmd) != 3 || cmd[0] != "sh" || !strings.Contains(cmd[2], `'http://x/'\''; rm -rf /; '\'''`) {
		t.Errorf("URL not quoted: %q", cmd)
	}
	if !strings.Contains(cmd[2], "--connect-timeout 1.5 --max-time 1.5") || !strings.Contains(cmd[2], `-lt 2 ]`) {
		t.Errorf("timeouts or sample count missing: %q", cmd[2])
	}
	if d := DigCommand(DigQuery{Name: "a.b", Samples: 1, Timeout: 1500 * time.Millisecond})[2]; !strings.Contains(d, "+time=2") || strings.Contains(d, "@") {
		t.Errorf("dig command %q: want whole seconds rounded up and the pod's own resolver", d)
	}
}

func TestCompleteAccountsForMissingSamples(t *testing.T) {
	t.Parallel()
	ok, to := Sample{Outcome: result.Success}, Sample{Outcome: result.Timeout}
	tests := []struct {
		name        string
		samples     []Sample
		wantLen     int
		wantStopped bool
	}{
		{"all there", []Sample{ok, ok, ok, ok, to}, 5, false},
		{"stopped after three failures in a row", []Sample{ok, to, to, to}, 4, true},
		{"cut short while succeeding: missing samples are errors", []Sample{ok, ok}, 5, false},
		{"cut short after two failures: not a deliberate stop", []Sample{ok, to, to}, 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, stopped := complete(append([]Sample(nil), tt.samples...), 5)
			if len(got) != tt.wantLen || stopped != tt.wantStopped {
				t.Fatalf("complete = %d samples, stopped %v; want %d, %v", len(got), stopped, tt.wantLen, tt.wantStopped)
			}
			if !stopped && len(tt.samples) < 5 && (got[4].Outcome != result.Error || !strings.Contains(got[4].Err, "printed")) {
				t.Errorf("missing sample must be an error saying so: %+v", got[4])
			}
		})
	}
}
