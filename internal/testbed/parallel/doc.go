// Package parallel is the test bed's fan-out (the lab, the node hosts): it runs a function over
// n items with bounded concurrency and reports every failure, not just the first.
package parallel
