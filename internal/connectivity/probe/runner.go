package probe

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// pingInterval matches PingCommand's -i.
const pingInterval = 200 * time.Millisecond

// command builds the exec command of a probe with n samples.
func command(cfg Config, s spec, n int) []string {
	switch s.kind {
	case kindDNS:
		return DigCommand(DigQuery{Name: s.target, Samples: n, Timeout: cfg.ProbeTimeout})
	case kindICMP:
		return PingCommand(s.target, n, cfg.ProbeTimeout)
	case kindIperf:
		return IperfCommand(s.target, defaults.ConnectivityIperfPort, iperfSeconds(cfg), cfg.ProbeTimeout)
	}
	return CurlCommand(s.target, n, cfg.ProbeTimeout)
}

func iperfSeconds(cfg Config) int {
	if cfg.IperfSeconds > 0 {
		return cfg.IperfSeconds
	}
	return defaults.ConnectivityIperfSeconds
}

// execBudget bounds one probe's exec: every sample may take the whole probe timeout.
func execBudget(cfg Config, s spec, n int) time.Duration {
	per := cfg.ProbeTimeout
	switch s.kind {
	case kindDNS:
		per = time.Duration(wholeSecs(cfg.ProbeTimeout)) * time.Second
	case kindICMP:
		per += pingInterval
	case kindIperf:
		return time.Duration(iperfSeconds(cfg))*time.Second + cfg.ProbeTimeout + defaults.ConnectivityExecSlack
	}
	return time.Duration(n)*per + defaults.ConnectivityExecSlack
}

// measure runs a probe's tool n times inside its client pod and parses what it printed.
func measure(ctx context.Context, cfg Config, ns string, s spec, n int) ([]Sample, *result.Throughput, error) {
	ctx, cancel := context.WithTimeout(ctx, execBudget(cfg, s, n))
	defer cancel()
	stdout, stderr, err := cfg.Exec.Exec(ctx, ns, s.src.Name, clientCtr, command(cfg, s, n))
	if err != nil {
		return nil, nil, err
	}
	var samples []Sample
	var tp *result.Throughput
	switch s.kind {
	case kindDNS:
		samples, err = ParseDig(stdout, s.want)
	case kindICMP:
		samples, err = ParsePing(stdout)
	case kindIperf:
		var one Sample
		one, tp, err = ParseIperf(stdout)
		if err == nil {
			samples = []Sample{one}
		}
	default:
		samples, err = ParseCurl(stdout)
	}
	if err != nil && strings.TrimSpace(stderr) != "" {
		err = fmt.Errorf("%w (stderr: %s)", err, firstLines(stderr, 2))
	}
	return samples, tp, err
}

// samplesFor is how many samples a probe takes: iperf3 measures once, over its duration.
func samplesFor(cfg Config, s spec) int {
	if s.kind == kindIperf {
		return 1
	}
	return cfg.Samples
}

// runProbe runs one planned probe and judges it.
func runProbe(ctx context.Context, cfg Config, ns string, kit toolkit, s spec) result.Entry {
	e := entryFor(s)
	if s.skip != "" {
		e.Status, e.Reason = result.Skipped, s.skip
		return e
	}
	if why := kit.missingTool(kindTool[s.kind]); why != "" {
		e.Status, e.Error = result.Failed, why
		return e
	}
	n := samplesFor(cfg, s)
	e.Samples = n
	samples, tp, err := measure(ctx, cfg, ns, s, n)
	if err != nil {
		e.Status, e.Observed, e.Error = result.Failed, "no result", err.Error()
		return e
	}
	samples, stopped := complete(samples, n)
	e.Samples = len(samples)
	v := Judge(s.expect, samples)
	e.Status, e.Observed, e.Error, e.Latency, e.Total = v.Status, v.Observed, v.Error, v.Latency, v.Total
	e.Throughput = tp
	if stopped {
		e.Observed += fmt.Sprintf(" (stopped after %d failed requests in a row)", MaxFailedInARow)
	}
	if tp != nil && v.Status == result.Passed {
		e.Observed += ", " + FormatBits(tp.ReceivedBitsPerSecond)
	}
	return e
}

// complete accounts for samples the tool did not print: none are missing when the loop stopped
// early after MaxFailedInARow failures in a row; otherwise each missing one is an error sample.
func complete(samples []Sample, n int) ([]Sample, bool) {
	got := len(samples)
	if got >= n {
		return samples, false
	}
	if got >= MaxFailedInARow {
		stopped := true
		for _, s := range samples[got-MaxFailedInARow:] {
			stopped = stopped && s.Outcome != result.Success
		}
		if stopped {
			return samples, true
		}
	}
	for i := got; i < n; i++ {
		samples = append(samples, Sample{Outcome: result.Error, Err: fmt.Sprintf("the tool printed %d of %d samples", got, n)})
	}
	return samples, false
}
