package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// row is one line of the comparison table. A row with only a section is a heading.
type row struct {
	section                         string
	what, ours, anchor, ratio, note string
}

// table collects rows per section, in the order the sections are declared.
type table struct {
	order []string
	rows  map[string][]row
}

func newTable(sections ...string) *table {
	return &table{order: sections, rows: map[string][]row{}}
}

func (t *table) add(section string, r row) {
	r.section = section
	t.rows[section] = append(t.rows[section], r)
}

// fail records that a section (or part of it) could not be measured, with why.
func (t *table) fail(section, what string, err error) {
	t.add(section, row{what: what, ours: "not measured", anchor: "—", ratio: "—", note: oneLine(err.Error())})
}

// markdown writes the header lines and the table.
func (t *table) markdown(w io.Writer, header []string) {
	for _, h := range header {
		fmt.Fprintln(w, h)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| what | ours | anchor | ratio (ours ÷ anchor) | notes |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, s := range t.order {
		rows := t.rows[s]
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "| **%s** | | | | |\n", cell(s))
		for _, r := range rows {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", cell(r.what), cell(r.ours), cell(r.anchor), cell(r.ratio), cell(r.note))
		}
	}
}

func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratio formats ours ÷ anchor.
func ratio(ours, anchor float64) string {
	if anchor <= 0 || ours <= 0 {
		return "—"
	}
	r := ours / anchor
	switch {
	case r >= 10:
		return fmt.Sprintf("%.0f×", r)
	case r >= 0.1:
		return fmt.Sprintf("%.2f×", r)
	default:
		return fmt.Sprintf("%.3f×", r)
	}
}

// faster says how many times faster (or slower) ours is, for the notes.
func faster(ours, anchor float64) string {
	if ours <= 0 || anchor <= 0 {
		return ""
	}
	if anchor >= ours {
		return fmt.Sprintf("%.1f× faster", anchor/ours)
	}
	return fmt.Sprintf("%.1f× slower", ours/anchor)
}

func secs(s float64) string {
	switch {
	case s <= 0:
		return "—"
	case s < 1:
		return fmt.Sprintf("%.0f ms", s*1000)
	case s < 10:
		return fmt.Sprintf("%.2f s", s)
	case s < 600:
		return fmt.Sprintf("%.1f s", s)
	}
	return fmt.Sprintf("%.1f min", s/60)
}

func dur(d time.Duration) string { return secs(d.Seconds()) }

func mib(kb float64) string {
	if kb <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f MiB", kb/1024)
}

func mb(bytes int64) string { return fmt.Sprintf("%.1f MB", float64(bytes)/1e6) }

func count(x float64) string { return fmt.Sprintf("%.0f", math.Round(x)) }

func runsNote(n int) string {
	if n == 1 {
		return "1 run"
	}
	return fmt.Sprintf("median of %d runs", n)
}
