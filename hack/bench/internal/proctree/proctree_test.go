package proctree

import (
	"os/exec"
	"testing"
)

// A shell that runs two sleeps at once holds more in its tree than its largest process.
func TestRunCountsTheTree(t *testing.T) {
	u, err := Run(exec.Command("sh", "-c", "sleep 0.5 & sleep 0.5 & wait"))
	if err != nil {
		t.Fatal(err)
	}
	if u.Wall <= 0 || u.MaxRSSKB <= 0 {
		t.Fatalf("usage %+v: want wall time and a peak RSS", u)
	}
	if u.TreeRSSKB <= u.MaxRSSKB {
		t.Errorf("tree RSS %d KiB not above the largest process' %d KiB with three processes alive", u.TreeRSSKB, u.MaxRSSKB)
	}
}

func TestRunReportsFailure(t *testing.T) {
	if _, err := Run(exec.Command("sh", "-c", "exit 3")); err == nil {
		t.Error("want the command's exit error")
	}
}
