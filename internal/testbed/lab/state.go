package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// StateName is the state file in a lab's work dir. It is written before anything is created, and
// rewritten after each step, so that Down can undo whatever exists.
const StateName = "state.json"

// Phases of a lab, as recorded in its state file.
const (
	PhaseStarting = "starting"
	PhaseReady    = "ready"
	PhaseStopping = "stopping"
)

// State is what a lab's state file records.
type State struct {
	Name      string      `json:"name"`
	WorkDir   string      `json:"workDir"`
	OwnerPID  int         `json:"ownerPID"` // the process that ran Up
	Keeper    bool        `json:"keeper"`   // OwnerPID is a `hack/lab` keeper: Down signals it
	Created   time.Time   `json:"created"`
	Phase     string      `json:"phase"`
	Step      string      `json:"step"` // last step started
	Calico    Calico      `json:"calico"`
	Workloads bool        `json:"workloads"`
	Kwokctl   string      `json:"kwokctl"` // path, for `kwokctl delete cluster`
	Kubectl   string      `json:"kubectl"`
	KwokDir   string      `json:"kwokDir"` // KWOK_WORKDIR: every control-plane process mentions it
	Server    string      `json:"server,omitempty"`
	Hosts     *HostsState `json:"hosts,omitempty"`
	Nodes     []Node      `json:"nodes,omitempty"`
}

// HostsState records the node hosts (for teardown after a crash).
type HostsState struct {
	// Gateway is the bridge address node hosts reach the controller at.
	Gateway string `json:"gateway"`
	// KeyPath and KnownHosts log in to the hosts as root (ssh -i KeyPath -o UserKnownHostsFile=KnownHosts).
	KeyPath    string `json:"keyPath"`
	KnownHosts string `json:"knownHosts"`
	// Harness is the node-host harness' own record, opaque to the lab.
	Harness json.RawMessage `json:"harness,omitempty"`
}

// ReadState reads the state file of the lab in workDir.
func ReadState(workDir string) (*State, error) {
	data, err := os.ReadFile(filepath.Join(workDir, StateName))
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(workDir, StateName), err)
	}
	return &s, nil
}

// write saves the state atomically (write a temporary file, rename).
func (s *State) write() error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode lab state: %w", err)
	}
	path := filepath.Join(s.WorkDir, StateName)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	return nil
}

// existsError explains that a lab (running, or left by a crash) holds dir.
func existsError(dir, name string) error {
	msg := fmt.Sprintf("lab %q already exists (work dir %s)", name, dir)
	if s, err := ReadState(dir); err == nil {
		msg += fmt.Sprintf(", phase %s, started %s by pid %d", s.Phase, s.Created.Format(time.RFC3339), s.OwnerPID)
		if !alive(s.OwnerPID) {
			msg += " (that process is gone: a crash)"
		}
	}
	return fmt.Errorf("%s: bring it down first (hack/lab down --name %s, or lab.DownByName) or choose another name", msg, name)
}

// makeWorkDir creates the lab's work dir, failing clearly when a lab of that name exists already
// (running, or left behind by a crash) or the place is not writable.
func makeWorkDir(dir, name string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("work dir %s: cannot create its parent: %w", dir, err)
	}
	err := os.Mkdir(dir, 0o700)
	if errors.Is(err, os.ErrExist) {
		return existsError(dir, name)
	}
	if err != nil {
		return fmt.Errorf("work dir %s is not writable: %w", dir, err)
	}
	probe := filepath.Join(dir, ".probe")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		_ = os.Remove(dir)
		return fmt.Errorf("work dir %s is not writable: %w", dir, err)
	}
	return os.Remove(probe)
}
