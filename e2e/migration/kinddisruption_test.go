package migration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/state"
)

// disruption follows the prober clients' output (hack/kind/echo/prober.go) through a migration:
// every second, each client prints per target the requests it sent and how many failed. A client
// restarted by the migration is a new pod; the collector follows every pod it sees, and dedupes
// lines read twice after a reconnect.
type disruption struct {
	kubectl, kubeconfig string
	start               time.Time
	cancel              context.CancelFunc
	wg                  sync.WaitGroup
	mu                  sync.Mutex
	seen                map[string]bool
	lines               []proberLine
	followed            map[string]bool
	errs                []string
}

// proberLine is one line of a prober client.
type proberLine struct {
	Time    int64  `json:"t"`
	Node    string `json:"node"`
	Pod     string `json:"pod"`
	Target  string `json:"target"`
	To      string `json:"to"`
	Sent    int    `json:"sent"`
	Failed  int    `json:"failed"`
	LastErr string `json:"err"`
}

func startDisruption(kubectl, kubeconfig string) *disruption {
	ctx, cancel := context.WithCancel(context.Background())
	d := &disruption{kubectl: kubectl, kubeconfig: kubeconfig, start: time.Now(), cancel: cancel,
		seen: map[string]bool{}, followed: map[string]bool{}}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for ctx.Err() == nil {
			out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "-n", proberNamespace, "get", "pods",
				"-l", "app=prober-client", "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}").Output()
			if err == nil {
				for _, pod := range strings.Fields(string(out)) {
					d.mu.Lock()
					follow := !d.followed[pod]
					d.followed[pod] = true
					d.mu.Unlock()
					if follow {
						d.wg.Add(1)
						go d.follow(ctx, pod)
					}
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return d
}

// follow reads one client's lines until the pod is gone or the collector stops.
func (d *disruption) follow(ctx context.Context, pod string) {
	defer d.wg.Done()
	for ctx.Err() == nil {
		cmd := exec.CommandContext(ctx, d.kubectl, "--kubeconfig", d.kubeconfig, "-n", proberNamespace, "logs", "-f", pod)
		out, err := cmd.StdoutPipe()
		if err == nil && cmd.Start() == nil {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				var l proberLine
				if json.Unmarshal(sc.Bytes(), &l) != nil || l.Target == "" {
					continue
				}
				key := fmt.Sprintf("%s|%d|%s|%s", l.Pod, l.Time, l.Target, l.To)
				d.mu.Lock()
				if !d.seen[key] {
					d.seen[key] = true
					d.lines = append(d.lines, l)
				}
				d.mu.Unlock()
			}
			_ = cmd.Wait()
		}
		// The stream ended: the pod is gone, or it restarted, or the API server hiccupped.
		if gone := exec.CommandContext(ctx, d.kubectl, "--kubeconfig", d.kubeconfig, "-n", proberNamespace,
			"get", "pod", pod, "-o", "name").Run(); gone != nil && ctx.Err() == nil {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// stop ends the collection (after a last second for the clients' final lines) and sums it up.
func (d *disruption) stop() disruptionReport {
	time.Sleep(2 * time.Second)
	d.cancel()
	d.wg.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	return summarize(d.lines, d.start, time.Now())
}

// disruptionReport is what the prober saw, per target.
type disruptionReport struct {
	From, To time.Time
	Targets  []targetFigures
	PerNode  []targetFigures // per client node, and pod-to-pod per destination node too
	Windows  []outageWindow  // every outage, per target, in time order
}

// outageWindow is a run of seconds with failed requests to one target (gaps of up to 3 s merged),
// and what the migration was doing then (filled in by explain).
type outageWindow struct {
	Target       string
	From, To     int64 // unix seconds, inclusive
	Sent, Failed int
	Clients      []string // nodes of the clients that saw a failure
	During       string
}

// migrationStep is a phase of the migration (cluster-wide, or one node's) and when it ran.
type migrationStep struct {
	Name     string
	From, To time.Time // To is zero while it had not completed
}

// migrationSteps reads the phases of the migration and of each node from the state the roles
// keep (kube-system/cnimigrate-state).
func migrationSteps(kubectl, kubeconfig string) ([]migrationStep, error) {
	out, err := exec.Command(kubectl, "--kubeconfig", kubeconfig, "-n", "kube-system", "get", "configmap",
		"cnimigrate-state", "-o", "jsonpath={.data}").Output()
	if err != nil {
		return nil, fmt.Errorf("read kube-system/cnimigrate-state: %w", err)
	}
	var data map[string]string
	var cluster []state.Phase
	var nodes map[string]*state.Progress
	if err := json.Unmarshal(out, &data); err != nil {
		return nil, fmt.Errorf("kube-system/cnimigrate-state: %w", err)
	}
	if err := json.Unmarshal([]byte(data["phases.json"]), &cluster); err != nil {
		return nil, fmt.Errorf("kube-system/cnimigrate-state phases.json: %w", err)
	}
	if raw := data["nodes.json"]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &nodes); err != nil {
			return nil, fmt.Errorf("kube-system/cnimigrate-state nodes.json: %w", err)
		}
	}
	parse := func(s string) time.Time {
		t, _ := time.Parse(time.RFC3339Nano, s)
		return t
	}
	var steps []migrationStep
	for _, p := range cluster {
		steps = append(steps, migrationStep{Name: p.Name, From: parse(p.StartedAt), To: parse(p.CompletedAt)})
	}
	for node, prog := range nodes {
		if prog == nil {
			continue
		}
		for _, p := range prog.Phases {
			steps = append(steps, migrationStep{Name: "node " + node + ": " + p.Name, From: parse(p.StartedAt), To: parse(p.CompletedAt)})
		}
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].From.Before(steps[j].From) })
	return steps, nil
}

// during names the steps running at t, or the last one completed before it.
func during(steps []migrationStep, t int64) string {
	var running []string
	last, lastEnd := "", time.Time{}
	for _, s := range steps {
		if s.From.IsZero() {
			continue
		}
		end := s.To
		if end.IsZero() {
			end = time.Unix(1<<40, 0)
		}
		if s.From.Unix() <= t && t <= end.Unix() {
			running = append(running, s.Name)
		} else if !s.To.IsZero() && s.To.Unix() < t && s.To.After(lastEnd) {
			last, lastEnd = s.Name, s.To
		}
	}
	if len(running) > 0 {
		return strings.Join(running, ", ")
	}
	if last != "" {
		return "after " + last
	}
	return "before the first phase"
}

// windowsOf finds the outage windows of one target in lines.
func windowsOf(target string, lines []proberLine) []outageWindow {
	type sec struct {
		sent, failed int
		clients      map[string]bool
	}
	bySec := map[int64]*sec{}
	for _, l := range lines {
		if l.Target != target {
			continue
		}
		s := bySec[l.Time]
		if s == nil {
			s = &sec{clients: map[string]bool{}}
			bySec[l.Time] = s
		}
		s.sent += l.Sent
		s.failed += l.Failed
		if l.Failed > 0 {
			s.clients[l.Node] = true
		}
	}
	var secs []int64
	for t, s := range bySec {
		if s.failed > 0 {
			secs = append(secs, t)
		}
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i] < secs[j] })
	var out []outageWindow
	clients := map[string]bool{}
	for _, t := range secs {
		if n := len(out); n == 0 || t > out[n-1].To+3 {
			clients = map[string]bool{}
			out = append(out, outageWindow{Target: target, From: t})
		}
		w := &out[len(out)-1]
		for between := w.To + 1; w.To != 0 && between < t; between++ {
			if s := bySec[between]; s != nil {
				w.Sent += s.sent
			}
		}
		w.To = t
		w.Sent += bySec[t].sent
		w.Failed += bySec[t].failed
		for c := range bySec[t].clients {
			if !clients[c] {
				clients[c] = true
				w.Clients = append(w.Clients, c)
			}
		}
		sort.Strings(w.Clients)
	}
	return out
}

// explain fills in what the migration was doing during each window.
func (r *disruptionReport) explain(steps []migrationStep) {
	for i := range r.Windows {
		r.Windows[i].During = during(steps, r.Windows[i].From)
	}
}

type targetFigures struct {
	Target       string
	Sent, Failed int
	// Starved counts the failed requests of a client whose own control (a request to itself on
	// loopback, no CNI involved) failed, or completed fewer than half the client's rate, in the same
	// second or the two before it (a request's lifetime): the client's node was starved of CPU then,
	// not the datapath at fault.
	Starved       int
	LongestOutage int // seconds: the longest run of consecutive seconds with a failed request
	OutageFrom    int64
	Covered       int // seconds with at least one request sent
	LastErr       string
}

func summarize(all []proberLine, from, to time.Time) disruptionReport {
	r := disruptionReport{From: from, To: to}
	var lines []proberLine // the clients print from their start: keep the window measured
	for _, l := range all {
		if l.Time >= from.Unix() && l.Time <= to.Unix() {
			lines = append(lines, l)
		}
	}
	type clientSec struct {
		node string
		t    int64
	}
	// A client's control is fine in a second when it answered at least half the client's rate and
	// failed none: a client that completes fewer of its loopback requests is falling behind.
	controlOK := map[clientSec]bool{}
	for _, l := range lines {
		if l.Target == "control" {
			controlOK[clientSec{l.Node, l.Time}] = 2*l.Sent >= proberRate && l.Failed == 0
		}
	}
	starved := func(l proberLine) bool {
		if l.Target == "control" {
			return true
		}
		for t := l.Time - 2; t <= l.Time; t++ {
			if !controlOK[clientSec{l.Node, t}] {
				return true
			}
		}
		return false
	}
	figures := func(name string, keep func(proberLine) bool) targetFigures {
		f := targetFigures{Target: name}
		failedAt, sentAt := map[int64]bool{}, map[int64]bool{}
		for _, l := range lines {
			if !keep(l) {
				continue
			}
			f.Sent += l.Sent
			f.Failed += l.Failed
			if l.Failed > 0 && starved(l) {
				f.Starved += l.Failed
			}
			if l.Sent > 0 {
				sentAt[l.Time] = true
			}
			if l.Failed > 0 {
				failedAt[l.Time] = true
				if l.LastErr != "" {
					f.LastErr = l.LastErr
				}
			}
		}
		f.Covered = len(sentAt)
		secs := make([]int64, 0, len(failedAt))
		for s := range failedAt {
			secs = append(secs, s)
		}
		sort.Slice(secs, func(i, j int) bool { return secs[i] < secs[j] })
		run, start := 0, int64(0)
		for i, s := range secs {
			if i > 0 && s == secs[i-1]+1 {
				run++
			} else {
				run, start = 1, s
			}
			if run > f.LongestOutage {
				f.LongestOutage, f.OutageFrom = run, start
			}
		}
		return f
	}
	targets := []string{"service", "pod-to-pod", "dns", "control"}
	for _, t := range targets {
		r.Targets = append(r.Targets, figures(t, func(l proberLine) bool { return l.Target == t }))
	}
	nodes := map[string]bool{}
	for _, l := range lines {
		nodes[l.Node] = true
		if l.To != "" {
			nodes[l.To] = true
		}
	}
	var names []string
	for n := range nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, t := range targets {
			f := figures(t+" from "+n, func(l proberLine) bool { return l.Target == t && l.Node == n })
			if f.Sent > 0 {
				r.PerNode = append(r.PerNode, f)
			}
		}
		if f := figures("pod-to-pod to "+n, func(l proberLine) bool { return l.Target == "pod-to-pod" && l.To == n }); f.Sent > 0 {
			r.PerNode = append(r.PerNode, f)
		}
	}
	for _, t := range targets {
		r.Windows = append(r.Windows, windowsOf(t, lines)...)
	}
	sort.SliceStable(r.Windows, func(i, j int) bool { return r.Windows[i].From < r.Windows[j].From })
	return r
}

// figure is one row of a report's table, by name.
func figure(in []targetFigures, name string) targetFigures {
	for _, x := range in {
		if x.Target == name {
			return x
		}
	}
	return targetFigures{Target: name}
}

// markdown renders the report as the tables docs/benchmarks.md and the migration report carry.
func (r disruptionReport) markdown(strategy string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Disruption measured by the prober (%s strategy)\n\n", strategy)
	fmt.Fprintf(&b, "From %s to %s (%.0f s): each prober client (one per node) sends %d requests per second to each target "+
		"(timeout %s each). `control` is each client requesting itself on loopback: no CNI is involved, so its failures "+
		"measure this machine's CPU starvation, and a failure of another target while its client's control also failed "+
		"or answered fewer than half its rate (same second or the two before) is counted as `while starved`.\n\n",
		r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339), r.To.Sub(r.From).Seconds(), proberRate, proberTimeout)
	table := func(rows []targetFigures) {
		b.WriteString("| target | requests | failed | of them while starved | longest outage (s) | starting | seconds probed | last error |\n|---|---|---|---|---|---|---|---|\n")
		for _, f := range rows {
			start := "-"
			if f.LongestOutage > 0 {
				start = fmt.Sprintf("+%d s", f.OutageFrom-r.From.Unix())
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s | %d | %s |\n", f.Target, f.Sent, f.Failed, f.Starved, f.LongestOutage, start, f.Covered,
				strings.ReplaceAll(f.LastErr, "|", "/"))
		}
	}
	table(r.Targets)
	b.WriteString("\nPer node (clients by the node they run on; pod-to-pod also by the node of the pod requested):\n\n")
	table(r.PerNode)
	if len(r.Windows) == 0 {
		b.WriteString("\nNo request failed.\n")
		return b.String()
	}
	b.WriteString("\nEach outage (seconds with a failed request, gaps of up to 3 s merged) and what the migration was doing when it began:\n\n")
	b.WriteString("| target | from (UTC) | starting | seconds | failed of sent | clients failing | migration step |\n|---|---|---|---|---|---|---|\n")
	for _, w := range r.Windows {
		fmt.Fprintf(&b, "| %s | %s | +%d s | %d | %d of %d | %s | %s |\n", w.Target, time.Unix(w.From, 0).UTC().Format("15:04:05"),
			w.From-r.From.Unix(), w.To-w.From+1, w.Failed, w.Sent, strings.Join(w.Clients, ", "), w.During)
	}
	return b.String()
}

func TestSummarizeFindsTheLongestOutage(t *testing.T) {
	from := time.Unix(1000, 0)
	var lines []proberLine
	for s := int64(1000); s < 1020; s++ {
		failed := 0
		if (s >= 1003 && s < 1005) || (s >= 1010 && s < 1014) || s == 1017 { // 2 s, 4 s, then 1 s of failures
			failed = 3
		}
		control := 10
		if s == 1016 {
			control = 1 // a's control fell behind (fewer than half the rate answered): starved too
		}
		lines = append(lines,
			proberLine{Time: s, Node: "a", Target: "service", Sent: 10, Failed: failed, LastErr: map[bool]string{true: "timeout"}[failed > 0]},
			proberLine{Time: s, Node: "b", Target: "service", Sent: 10},
			proberLine{Time: s, Node: "a", Target: "pod-to-pod", To: "b", Sent: 10},
			// a's control failed at 1003 (its node starved then), b's never.
			proberLine{Time: s, Node: "a", Target: "control", Sent: control, Failed: map[bool]int{true: 10}[s == 1003]},
			proberLine{Time: s, Node: "b", Target: "control", Sent: 10})
	}
	r := summarize(lines, from, time.Unix(1020, 0))
	svc := figure(r.Targets, "service")
	// The failures at 1003, 1004 and 1017 fall within two seconds of a's starved control; 1010-1013 do not.
	if svc.Sent != 400 || svc.Failed != 21 || svc.Starved != 9 || svc.LongestOutage != 4 || svc.OutageFrom != 1010 || svc.Covered != 20 || svc.LastErr != "timeout" {
		t.Errorf("service figures: %+v", svc)
	}
	if p := figure(r.Targets, "pod-to-pod"); p.Sent != 200 || p.Failed != 0 || p.LongestOutage != 0 {
		t.Errorf("pod-to-pod figures: %+v", p)
	}
	if b := figure(r.PerNode, "service from b"); b.Failed != 0 || b.Sent != 200 {
		t.Errorf("per node b: %+v", b)
	}
	if a := figure(r.PerNode, "pod-to-pod to b"); a.Sent != 200 {
		t.Errorf("pod-to-pod to b: %+v", a)
	}
	if md := r.markdown("live"); !strings.Contains(md, "| service | 400 | 21 | 9 | 4 | +10 s | 20 | timeout |") {
		t.Errorf("markdown:\n%s", md)
	}
	// Service outages 5 s and 3 s apart stay separate windows, each with its client and the step it began in.
	r.explain([]migrationStep{
		{Name: "install_cilium", From: time.Unix(1002, 0), To: time.Unix(1006, 0)},
		{Name: "node b: switch", From: time.Unix(1012, 0)},
	})
	var svcWindows []outageWindow
	for _, w := range r.Windows {
		if w.Target == "service" {
			svcWindows = append(svcWindows, w)
		}
	}
	if len(svcWindows) != 3 || len(r.Windows) != 4 { // and a's control at 1003
		t.Fatalf("windows: %+v", r.Windows)
	}
	w0, w1 := svcWindows[0], svcWindows[1]
	if w0.From != 1003 || w0.To != 1004 || w0.Failed != 6 || w0.Sent != 40 || strings.Join(w0.Clients, ",") != "a" || w0.During != "install_cilium" {
		t.Errorf("first window: %+v", w0)
	}
	if w1.From != 1010 || w1.To != 1013 || w1.Failed != 12 || w1.During != "after install_cilium" {
		t.Errorf("second window: %+v", w1)
	}
	if got := during([]migrationStep{{Name: "node b: switch", From: time.Unix(1012, 0)}}, 1013); got != "node b: switch" {
		t.Errorf("a step not yet completed runs until now: %q", got)
	}
	if md := r.markdown("live"); !strings.Contains(md, "| service | 00:16:43 | +3 s | 2 | 6 of 40 | a | install_cilium |") {
		t.Errorf("markdown windows:\n%s", md)
	}
}
