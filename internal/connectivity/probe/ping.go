package probe

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

var (
	// Reply lines of iputils ("icmp_seq=1 ttl=64 time=0.045 ms") and busybox ("seq=0 ttl=64 time=0.045 ms").
	pingReply = regexp.MustCompile(`(?m)bytes from .*time[=<]([0-9.]+) ?ms`)
	// "3 packets transmitted, 3 received" (iputils) / "3 packets transmitted, 3 packets received" (busybox).
	pingStats = regexp.MustCompile(`(\d+) packets transmitted, (\d+) (?:packets )?received`)
)

// ParsePing reads PingCommand's output: one Success sample per reply with its rtt, and one
// Timeout (or Unreachable, when ping said so) sample per request that got no reply.
func ParsePing(out string) ([]Sample, error) {
	st := pingStats.FindStringSubmatch(out)
	if st == nil {
		return nil, fmt.Errorf("ping printed no statistics: %q", firstLines(out, 3))
	}
	sent, _ := strconv.Atoi(st[1])
	received, _ := strconv.Atoi(st[2])
	var samples []Sample
	for _, m := range pingReply.FindAllStringSubmatch(out, -1) {
		ms, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			continue
		}
		samples = append(samples, Sample{Outcome: result.Success, LatencyMs: ms, HasLatency: true, Detail: "echo reply"})
	}
	lost := result.Timeout
	errText := "ping: no reply within the timeout"
	if strings.Contains(out, "Unreachable") || strings.Contains(out, "unreachable") {
		lost, errText = result.Unreachable, "ping: "+unreachableLine(out)
	}
	for i := received; i < sent; i++ {
		samples = append(samples, Sample{Outcome: lost, Err: errText})
	}
	return samples, nil
}

func unreachableLine(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(strings.ToLower(line), "unreachable") {
			return strings.TrimSpace(line)
		}
	}
	return "unreachable"
}
