// Package report turns a connectivity result into what users keep: the result JSON (which a later
// run reads back as its baseline, to show per-probe deltas such as "p95 3.2 ms → 2.1 ms, -34%")
// and JUnit XML, so CI systems show each check and probe as a test case.
package report
