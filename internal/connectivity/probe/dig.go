package probe

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

var (
	digStatus    = regexp.MustCompile(`->>HEADER<<- opcode: \w+, status: ([A-Z]+)`)
	digQueryTime = regexp.MustCompile(`(?m)^;; Query time: (\d+) msec`)
	digExit      = regexp.MustCompile(`(?m)^` + exitMarker + ` (\d+)\s*$`)
)

// dig exit codes (dig(1) "RETURN CODES").
const (
	digNoReply = 9
)

// ParseDig reads DigCommand's output: one block per sample between markers. want is the address
// the answer must contain ("" accepts any A record).
func ParseDig(out, want string) ([]Sample, error) {
	blocks := strings.Split(out, sampleMarker+"\n")
	var samples []Sample
	for _, b := range blocks[1:] {
		m := digExit.FindStringSubmatch(b)
		if m == nil {
			return samples, fmt.Errorf("dig sample has no exit code line: %q", firstLines(b, 3))
		}
		exit, _ := strconv.Atoi(m[1])
		samples = append(samples, digSample(b, exit, want))
	}
	return samples, nil
}

func digSample(b string, exit int, want string) Sample {
	if exit != 0 {
		msg := digComment(b)
		lower := strings.ToLower(msg)
		out := result.Error
		switch {
		case strings.Contains(lower, "refused"):
			out = result.Refused
		case strings.Contains(lower, "timed out") || exit == digNoReply:
			out = result.Timeout
		}
		return Sample{Outcome: out, Err: fmt.Sprintf("dig exit %d: %s", exit, msg)}
	}
	s := Sample{}
	if m := digQueryTime.FindStringSubmatch(b); m != nil {
		ms, _ := strconv.Atoi(m[1])
		s.LatencyMs, s.HasLatency = float64(ms), true
	}
	status := "unknown"
	if m := digStatus.FindStringSubmatch(b); m != nil {
		status = m[1]
	}
	answers := digAnswers(b)
	s.Detail = "status " + status
	if len(answers) > 0 {
		s.Detail = "A " + strings.Join(answers, ",")
	}
	switch {
	case status == "NXDOMAIN":
		s.Outcome, s.Err = result.NXDomain, "dig: NXDOMAIN (the name does not exist)"
	case status != "NOERROR":
		s.Outcome, s.Err = result.DNSError, "dig: status "+status
	case len(answers) == 0:
		s.Outcome, s.Err = result.DNSError, "dig: NOERROR but no A record"
	case want != "" && !contains(answers, want):
		s.Outcome, s.Err = result.DNSError, fmt.Sprintf("dig: answer %s, expected %s", strings.Join(answers, ","), want)
	default:
		s.Outcome = result.Success
	}
	if s.Outcome != result.Success {
		s.HasLatency = false
	}
	return s
}

// digAnswers returns the A records of the ANSWER SECTION.
func digAnswers(b string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(b, "\n") {
		switch {
		case strings.HasPrefix(line, ";; ANSWER SECTION:"):
			in = true
		case in && strings.TrimSpace(line) == "":
			return out
		case in:
			f := strings.Fields(line)
			if len(f) >= 5 && f[3] == "A" {
				out = append(out, f[4])
			}
		}
	}
	return out
}

// digComment returns dig's first ";;" diagnostic that is not a section header.
func digComment(b string) string {
	for _, line := range strings.Split(b, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, ";;") && !strings.HasSuffix(t, "SECTION:") && !strings.Contains(t, "global options") {
			return strings.TrimSpace(strings.TrimPrefix(t, ";;"))
		}
	}
	return firstLines(b, 2)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}
