// Package proctree measures a command and the processes it starts: wall time, the peak resident set
// of its largest process (the kernel's ru_maxrss from wait4, what /usr/bin/time -v reports), and the
// peak of the whole tree's resident sets added up (sampled from /proc), which is what a shell running
// ten kubectl processes at once really holds.
package proctree

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Usage is what one run of a command cost.
type Usage struct {
	Wall      time.Duration
	MaxRSSKB  int64 // largest single process (ru_maxrss of the command and its waited-for descendants)
	TreeRSSKB int64 // largest sum over the tree at one sample (0 if never sampled)
}

// SampleEvery is how often the tree is sampled.
const SampleEvery = 100 * time.Millisecond

// Run starts cmd, samples its process tree until it exits, and returns what it cost together with
// cmd's error (the Usage is filled in either way once the command started).
func Run(cmd *exec.Cmd) (Usage, error) {
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Usage{}, err
	}
	done := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		var max int64
		t := time.NewTicker(SampleEvery)
		defer t.Stop()
		for {
			if kb := TreeRSSKB(cmd.Process.Pid); kb > max {
				max = kb
			}
			select {
			case <-done:
				peak <- max
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	u := Usage{Wall: time.Since(start)}
	close(done)
	u.TreeRSSKB = <-peak
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.MaxRSSKB = ru.Maxrss
	}
	u.TreeRSSKB = max(u.TreeRSSKB, u.MaxRSSKB)
	return u, err
}

// TreeRSSKB adds up the resident sets (KiB) of pid and all its descendants right now.
func TreeRSSKB(pid int) int64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp := ppid(p); pp > 0 {
			children[pp] = append(children[pp], p)
		}
	}
	var total int64
	for queue := []int{pid}; len(queue) > 0; queue = queue[1:] {
		p := queue[0]
		total += rssKB(p)
		queue = append(queue, children[p]...)
	}
	return total
}

// ppid reads the parent pid from /proc/<pid>/stat (the field after the parenthesised name).
func ppid(pid int) int {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

var pageKB = int64(os.Getpagesize() / 1024)

// rssKB reads the resident set of pid from /proc/<pid>/statm.
func rssKB(pid int) int64 {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "statm"))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * pageKB
}
