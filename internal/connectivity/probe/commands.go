package probe

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Markers delimit samples in a tool's output so that one exec can run many samples and the parser
// never mistakes the tool's own text for ours.
const (
	sampleMarker = "cnimigrate-sample"
	exitMarker   = "cnimigrate-exit"
	toolMarker   = "cnimigrate-tool"
	execOKPrefix = "cnimigrate-exec-ok-"
)

// curlFormat is curl's --write-out: exit code, HTTP status, TCP connect time and total time (in
// seconds) and the error message, one line per sample. %{exitcode} and %{errormsg} need curl 7.75.
const curlFormat = sampleMarker + ` %{exitcode} %{http_code} %{time_connect} %{time_total} %{errormsg}\n`

// minCurl is the oldest curl whose --write-out knows %{exitcode} and %{errormsg}.
var minCurl = [3]int{7, 75, 0}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// secs renders a duration as curl wants it (fractional seconds).
func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// wholeSecs rounds up to whole seconds, at least 1, for tools that take integers (dig, ping -W).
func wholeSecs(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

func sh(script string) []string { return []string{"sh", "-c", script} }

// MaxFailedInARow stops a probe's samples early: a dead path then costs three timeouts, not
// samples × probe_timeout (a deny policy's probe is judged on those three).
const MaxFailedInARow = 3

// loop repeats body (which sets rc to the tool's exit code) samples times, stopping after
// MaxFailedInARow failed samples in a row.
func loop(samples int, body string) string {
	return fmt.Sprintf(`i=0; f=0; while [ "$i" -lt %d ] && [ "$f" -lt %d ]; do i=$((i+1)); %s; `+
		`if [ "$rc" -eq 0 ]; then f=0; else f=$((f+1)); fi; done`, samples, MaxFailedInARow, body)
}

// CurlCommand requests url samples times, one --write-out line per request. It never uses a proxy
// from the pod's environment (the datapath is measured) and does not verify TLS (reachability is).
func CurlCommand(url string, samples int, timeout time.Duration) []string {
	body := fmt.Sprintf(`curl -s -k --noproxy '*' -o /dev/null --connect-timeout %s --max-time %s -w %s %s; rc=$?`,
		secs(timeout), secs(timeout), shellQuote(curlFormat), shellQuote(url))
	return sh(loop(samples, body))
}

// DigQuery is one DNS probe. Server and Port are for tests against a loopback server; probes use
// the pod's resolv.conf.
type DigQuery struct {
	Name    string
	Samples int
	Timeout time.Duration
	Server  string
	Port    int
}

// DigCommand looks an A record up Samples times, each sample between markers with dig's exit code.
func DigCommand(q DigQuery) []string {
	args := fmt.Sprintf("+tries=1 +time=%d", wholeSecs(q.Timeout))
	if q.Server != "" {
		args += " @" + shellQuote(q.Server)
	}
	if q.Port != 0 {
		args += fmt.Sprintf(" -p %d", q.Port)
	}
	body := fmt.Sprintf(`echo %s; dig %s %s A; rc=$?; echo "%s $rc"`, sampleMarker, args, shellQuote(q.Name), exitMarker)
	return sh(loop(q.Samples, body))
}

// PingCommand sends count echo requests 200 ms apart and appends ping's exit code.
func PingCommand(addr string, count int, timeout time.Duration) []string {
	return sh(fmt.Sprintf(`ping -c %d -i 0.2 -W %d %s 2>&1; echo "%s $?"`, count, wholeSecs(timeout), shellQuote(addr), exitMarker))
}

// IperfCommand runs an iperf3 client for seconds with JSON output.
func IperfCommand(addr string, port, seconds int, timeout time.Duration) []string {
	return sh(fmt.Sprintf(`iperf3 -c %s -p %d -t %d -J --connect-timeout %d`,
		shellQuote(addr), port, seconds, timeout.Milliseconds()))
}

// IperfServerArgs is the iperf3 server container's command.
func IperfServerArgs() []string {
	return []string{"iperf3", "-s", "-p", strconv.Itoa(defaults.ConnectivityIperfPort)}
}

// PreflightCommand proves exec runs real tools in the client image: it echoes a token only a real
// shell prints, the curl version, which tools exist, and resolv.conf (for the cluster domain).
func PreflightCommand(token string) []string {
	return sh(fmt.Sprintf(`echo %s%s; curl --version 2>/dev/null | head -n 1; `+
		`for t in curl dig ping iperf3; do command -v "$t" >/dev/null 2>&1 && echo "%s $t"; done; `+
		`cat /etc/resolv.conf 2>/dev/null; true`, execOKPrefix, token, toolMarker))
}
