package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is a running process found by its command line.
type Process struct {
	PID     int
	Cmdline string
}

// processesMentioning lists the processes (other than this one) whose command line contains
// marker: every control-plane process of a lab mentions its kwok work dir in its flags.
func processesMentioning(marker string) ([]Process, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var out []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(raw) == 0 {
			continue // gone, or a kernel thread
		}
		cmdline := string(bytes.ReplaceAll(bytes.TrimRight(raw, "\x00"), []byte{0}, []byte{' '}))
		if strings.Contains(cmdline, marker) {
			out = append(out, Process{PID: pid, Cmdline: cmdline})
		}
	}
	return out, nil
}

// killProcessesMentioning stops every process whose command line contains marker: SIGTERM, then
// SIGKILL for those still running after grace. It fails naming the processes that survive.
func killProcessesMentioning(ctx context.Context, marker string, grace time.Duration) error {
	if marker == "" || marker == "/" {
		return errors.New("refusing to kill processes by an empty marker")
	}
	procs, err := processesMentioning(marker)
	if err != nil || len(procs) == 0 {
		return err
	}
	for _, p := range procs {
		_ = syscall.Kill(p.PID, syscall.SIGTERM)
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if procs, _ = processesMentioning(marker); len(procs) == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range procs {
		_ = syscall.Kill(p.PID, syscall.SIGKILL)
	}
	time.Sleep(200 * time.Millisecond)
	if procs, _ = processesMentioning(marker); len(procs) > 0 {
		var names []string
		for _, p := range procs {
			names = append(names, fmt.Sprintf("%d (%.80s)", p.PID, p.Cmdline))
		}
		return fmt.Errorf("processes survive SIGKILL: %s", strings.Join(names, "; "))
	}
	return nil
}

// alive reports whether a process with this PID exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ProcessRSS is the resident memory of one control-plane process.
type ProcessRSS struct {
	PID   int
	Name  string // the binary's base name: etcd, kube-apiserver, ...
	Bytes uint64
}

// ControlPlaneRSS reports the resident memory of every control-plane process of the lab (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kwok).
func (l *Lab) ControlPlaneRSS() ([]ProcessRSS, error) {
	procs, err := processesMentioning(l.state.KwokDir)
	if err != nil {
		return nil, err
	}
	var out []ProcessRSS
	for _, p := range procs {
		status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.PID), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseUint(f[1], 10, 64)
				name, _, _ := strings.Cut(p.Cmdline, " ")
				out = append(out, ProcessRSS{PID: p.PID, Name: filepath.Base(name), Bytes: kb << 10})
			}
		}
	}
	return out, nil
}
