// Package parallel is shared plumbing at the bottom of the import graph: it runs a function over
// n items with bounded concurrency and reports every failure, not just the first.
package parallel
