package playbook

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/debpkg"
)

//go:embed cnimigrate_results.py
var callbackPlugin []byte

const callbackName = "cnimigrate_results"

// Tools maps the commands Run needs to their Debian packages.
var Tools = debpkg.Need{"ansible-playbook": "ansible-core", "ssh": "openssh-client"}

// Params describes one ansible-playbook run.
type Params struct {
	// Dir is the working directory; when it holds ansible.cfg, ANSIBLE_CONFIG points at it.
	Dir       string
	Inventory string // -i
	Playbook  string // relative to Dir, or absolute
	ExtraVars map[string]any
	Check     bool // --check
	Diff      bool // --diff
	Tags      []string
	SkipTags  []string
	Limit     string
	Verbosity int      // number of -v
	Library   []string // ANSIBLE_LIBRARY: directories holding modules (e.g. freshly built binaries)
	RolesPath []string // ANSIBLE_ROLES_PATH
	// Env adds or overrides environment variables of the run (ANSIBLE_* settings).
	Env map[string]string
	// Output receives Ansible's screen output as it happens; it is also kept in Result.Output.
	Output io.Writer
	// StopSignal is sent to the run's process group when ctx ends; 0 means SIGTERM (Ansible stops
	// gently). Fault tests send SIGKILL: a controller that dies mid-task.
	StopSignal syscall.Signal
}

// Run runs ansible-playbook and returns the per-task results and the recap. See the package doc
// for how errors and results go together.
func Run(ctx context.Context, p Params) (*Result, error) {
	if err := debpkg.Ensure(ctx, Tools); err != nil {
		return nil, fmt.Errorf("playbook: %w", err)
	}
	tmp, err := os.MkdirTemp("", "cnimigrate-playbook-")
	if err != nil {
		return nil, fmt.Errorf("playbook: temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	argv, env, err := prepare(p, tmp)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	w := io.Writer(&out)
	if p.Output != nil {
		w = io.MultiWriter(&out, p.Output)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = p.Dir, env, w, w
	// Stop the whole process group (forks, ssh) when ctx ends, gently unless told otherwise.
	sig := p.StopSignal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, sig) }
	cmd.WaitDelay = 10 * time.Second
	runErr := cmd.Run()
	closeControlMasters(filepath.Join(tmp, "cp"))
	res := &Result{ExitCode: cmd.ProcessState.ExitCode(), Output: out.String()}
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return nil, fmt.Errorf("playbook: run %s: %w", strings.Join(argv, " "), runErr)
	}
	if err := readResults(filepath.Join(tmp, "results.json"), res); err != nil {
		return nil, fmt.Errorf("playbook: %s exited %d without results (%v):\n%s", p.Playbook, res.ExitCode, err, tail(res.Output, 3000))
	}
	if res.ExitCode != 0 {
		fails := res.failures()
		if len(fails) == 0 {
			fails = []string{tail(res.Output, 2000)}
		}
		return res, fmt.Errorf("playbook: %s exited %d (%s): %s", p.Playbook, res.ExitCode, res.Totals(), strings.Join(fails, "; "))
	}
	return res, nil
}

// prepare writes the callback plugin and extra vars into tmp and returns argv and the environment.
func prepare(p Params, tmp string) ([]string, []string, error) {
	cbDir := filepath.Join(tmp, "callbacks")
	if err := os.MkdirAll(cbDir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("playbook: %w", err)
	}
	if err := os.WriteFile(filepath.Join(cbDir, callbackName+".py"), callbackPlugin, 0o644); err != nil {
		return nil, nil, fmt.Errorf("playbook: write callback plugin: %w", err)
	}
	argv := []string{"ansible-playbook"}
	if p.Inventory != "" {
		argv = append(argv, "-i", p.Inventory)
	}
	if p.Check {
		argv = append(argv, "--check")
	}
	if p.Diff {
		argv = append(argv, "--diff")
	}
	if len(p.Tags) > 0 {
		argv = append(argv, "--tags", strings.Join(p.Tags, ","))
	}
	if len(p.SkipTags) > 0 {
		argv = append(argv, "--skip-tags", strings.Join(p.SkipTags, ","))
	}
	if p.Limit != "" {
		argv = append(argv, "--limit", p.Limit)
	}
	if p.Verbosity > 0 {
		argv = append(argv, "-"+strings.Repeat("v", p.Verbosity))
	}
	if len(p.ExtraVars) > 0 {
		b, err := json.Marshal(p.ExtraVars)
		if err != nil {
			return nil, nil, fmt.Errorf("playbook: encode extra vars: %w", err)
		}
		f := filepath.Join(tmp, "extra-vars.json")
		if err := os.WriteFile(f, b, 0o600); err != nil {
			return nil, nil, fmt.Errorf("playbook: %w", err)
		}
		argv = append(argv, "-e", "@"+f)
	}
	argv = append(argv, p.Playbook)
	return argv, environ(p, tmp, cbDir), nil
}

// environ is this process' environment plus the run's ANSIBLE_* settings (Params.Env last).
func environ(p Params, tmp, cbDir string) []string {
	set := map[string]string{
		"ANSIBLE_CALLBACK_PLUGINS":     joinList(cbDir, os.Getenv("ANSIBLE_CALLBACK_PLUGINS")),
		"ANSIBLE_CALLBACKS_ENABLED":    joinComma(callbackName, os.Getenv("ANSIBLE_CALLBACKS_ENABLED")),
		"CNIMIGRATE_RESULTS_JSON":      filepath.Join(tmp, "results.json"),
		"ANSIBLE_HOST_KEY_CHECKING":    "True",
		"ANSIBLE_SSH_CONTROL_PATH_DIR": filepath.Join(tmp, "cp"),
		// Ansible's default plus no -C: compressing each module binary costs CPU and saves nothing
		// on a local bridge. Params.Env can put it back for remote hosts.
		"ANSIBLE_SSH_ARGS":                   "-o ControlMaster=auto -o ControlPersist=60s",
		"ANSIBLE_RETRY_FILES_ENABLED":        "False",
		"ANSIBLE_NOCOLOR":                    "1",
		"ANSIBLE_FORCE_COLOR":                "0",
		"ANSIBLE_DEPRECATION_WARNINGS":       "False",
		"ANSIBLE_LOCALHOST_WARNING":          "False",
		"ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
		"PYTHONUNBUFFERED":                   "1",
	}
	if cfg := filepath.Join(p.Dir, "ansible.cfg"); p.Dir != "" && fileExists(cfg) {
		set["ANSIBLE_CONFIG"] = cfg
	}
	if len(p.Library) > 0 {
		set["ANSIBLE_LIBRARY"] = strings.Join(p.Library, string(os.PathListSeparator))
	}
	if len(p.RolesPath) > 0 {
		set["ANSIBLE_ROLES_PATH"] = strings.Join(p.RolesPath, string(os.PathListSeparator))
	}
	for k, v := range p.Env {
		set[k] = v
	}
	env := make([]string, 0, len(os.Environ())+len(set))
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !has(set, k) {
			env = append(env, kv)
		}
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// closeControlMasters asks every SSH control master under dir to exit, so no ssh process
// outlives the run (Ansible leaves them to ControlPersist).
func closeControlMasters(dir string) {
	socks, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, s := range socks {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = exec.CommandContext(ctx, "ssh", "-o", "ControlPath="+s, "-O", "exit", "cnimigrate-control-master").Run()
		cancel()
	}
}

func readResults(path string, res *Result) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc struct {
		Plays []Play           `json:"plays"`
		Stats map[string]Recap `json:"stats"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	res.Plays, res.Stats = doc.Plays, doc.Stats
	return nil
}

func joinList(a, b string) string {
	if b == "" {
		return a
	}
	return a + string(os.PathListSeparator) + b
}

func joinComma(a, b string) string {
	if b == "" {
		return a
	}
	return a + "," + b
}

func has(m map[string]string, k string) bool { _, ok := m[k]; return ok }

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
