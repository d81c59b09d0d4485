package probe

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

// iperfJSON is the part of `iperf3 -J` output the throughput probe reads.
type iperfJSON struct {
	End struct {
		SumSent struct {
			Seconds       float64 `json:"seconds"`
			BitsPerSecond float64 `json:"bits_per_second"`
			Retransmits   int     `json:"retransmits"`
		} `json:"sum_sent"`
		SumReceived struct {
			Seconds       float64 `json:"seconds"`
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
	Error string `json:"error"`
}

// ParseIperf reads `iperf3 -J`: the throughput, or a failed sample carrying iperf3's error.
func ParseIperf(out string) (Sample, *result.Throughput, error) {
	start := strings.Index(out, "{")
	if start < 0 {
		return Sample{}, nil, fmt.Errorf("iperf3 printed no JSON: %q", firstLines(out, 3))
	}
	var doc iperfJSON
	if err := json.NewDecoder(strings.NewReader(out[start:])).Decode(&doc); err != nil {
		return Sample{}, nil, fmt.Errorf("iperf3 JSON: %w", err)
	}
	if doc.Error != "" {
		lower := strings.ToLower(doc.Error)
		o := result.Error
		switch {
		case strings.Contains(lower, "refused"):
			o = result.Refused
		case strings.Contains(lower, "timed out") || strings.Contains(lower, "timeout"):
			o = result.Timeout
		case strings.Contains(lower, "no route") || strings.Contains(lower, "unreachable"):
			o = result.Unreachable
		}
		return Sample{Outcome: o, Err: "iperf3: " + doc.Error}, nil, nil
	}
	tp := &result.Throughput{
		SentBitsPerSecond:     doc.End.SumSent.BitsPerSecond,
		ReceivedBitsPerSecond: doc.End.SumReceived.BitsPerSecond,
		Retransmits:           doc.End.SumSent.Retransmits,
		Seconds:               doc.End.SumSent.Seconds,
	}
	if tp.ReceivedBitsPerSecond <= 0 {
		return Sample{Outcome: result.Error, Err: "iperf3: no data received"}, tp, nil
	}
	return Sample{Outcome: result.Success, Detail: FormatBits(tp.ReceivedBitsPerSecond)}, tp, nil
}

// FormatBits renders bits per second as iperf3 does: "2.81 Gbits/sec".
func FormatBits(bps float64) string {
	units := []string{"bits/sec", "Kbits/sec", "Mbits/sec", "Gbits/sec", "Tbits/sec"}
	i := 0
	for bps >= 1000 && i < len(units)-1 {
		bps /= 1000
		i++
	}
	return fmt.Sprintf("%.3g %s", bps, units[i])
}
