package ansible

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// Request is one invocation of a module: validated options and the _ansible_* flags.
type Request struct {
	Flags
	// Params holds every option of the spec, coerced to its type (int as int64, float as float64,
	// list as []any, dict as map[string]any), defaults filled in, absent options as nil.
	Params map[string]any
	noLog  []string
}

// AddNoLogValues names strings the module found to be secret while it ran (a password inside
// free-form values, a token read from a file), as AnsibleModule.no_log_values.add does: each is
// replaced by "********" wherever it appears in the result, even when the module fails.
func (r *Request) AddNoLogValues(values ...string) {
	for _, v := range values {
		if v != "" {
			r.noLog = append(r.noLog, v)
		}
	}
}

// Decode fills a struct (with json tags named like the options) from the validated options.
func (r *Request) Decode(into any) error {
	b, err := json.Marshal(r.Params)
	if err != nil {
		return fmt.Errorf("encode options: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("decode options into %T: %w", into, err)
	}
	return nil
}

// Diff is one entry of Ansible's diff output.
type Diff struct {
	Before       string `json:"before"`
	After        string `json:"after"`
	BeforeHeader string `json:"before_header,omitempty"`
	AfterHeader  string `json:"after_header,omitempty"`
}

// Deprecation is one entry of a result's deprecations.
type Deprecation struct {
	Msg     string `json:"msg"`
	Version string `json:"version,omitempty"`
}

// Result is what a module returns. Values holds the module's own result keys: a struct with json
// tags or a map, merged into the top level of the JSON result.
type Result struct {
	Changed      bool
	Skipped      bool
	Msg          string
	Diff         []Diff // sent only when the task runs with --diff
	Warnings     []string
	Deprecations []Deprecation
	Values       any
}

// Handler runs a module. Returning an error fails the task with the error as msg; a non-nil Result
// returned with it is still reported (what was done before the failure), never buried.
type Handler func(ctx context.Context, req *Request) (*Result, error)

// Main runs a module as Ansible invokes it (`<binary> <args file>`) and exits. It is the only
// place in the project that calls os.Exit.
func Main(spec Spec, h Handler) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args, os.Stdout, spec, h)
	stop()
	os.Exit(code)
}

// Run is Main without the exit: it reads argv[1], validates, calls h and writes one JSON object to
// stdout. It returns the process exit code: 0 on success, 1 on failure.
func Run(ctx context.Context, argv []string, stdout io.Writer, spec Spec, h Handler) int {
	out := map[string]any{}
	failed := run(ctx, argv, spec, h, out)
	b, err := json.Marshal(out)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"failed": true, "msg": "encode module result: " + err.Error()})
		failed = true
	}
	_, _ = stdout.Write(append(b, '\n'))
	if failed {
		return 1
	}
	return 0
}

// run fills out with the result and reports whether the task failed.
func run(ctx context.Context, argv []string, spec Spec, h Handler, out map[string]any) (failed bool) {
	fail := func(msg string) bool {
		out["failed"], out["msg"] = true, msg
		return true
	}
	if len(argv) < 2 {
		return fail(fmt.Sprintf("%s is an Ansible module: run it as `%s <args file>` (no args file was given)", spec.Name, spec.Name))
	}
	if argv[1] == "--version" {
		out["module"], out["version"], out["changed"] = spec.Name, Version, false
		return false
	}
	raw, err := readArgs(argv[1])
	if err != nil {
		return fail(err.Error())
	}
	params, flags, warnings, err := spec.Validate(raw)
	if err != nil {
		out["invocation"] = map[string]any{"module_args": mask(spec, maskNoLog(raw), false)}
		return fail(err.Error())
	}
	out["invocation"] = map[string]any{"module_args": mask(spec, params, flags.NoLog)}
	if flags.CheckMode && !spec.SupportsCheckMode {
		out["skipped"], out["changed"] = true, false
		out["msg"] = fmt.Sprintf("remote module (%s) does not support check mode", spec.Name)
		return false
	}
	req := &Request{Flags: flags, Params: params}
	res, err := call(ctx, h, req)
	if res == nil {
		res = &Result{}
	}
	res.Warnings = append(warnings, res.Warnings...)
	if verr := fill(out, res, flags); verr != nil && err == nil {
		err = verr
	}
	if err != nil {
		out["failed"], out["msg"] = true, err.Error()
		var p *panicError
		if errors.As(err, &p) {
			out["exception"] = p.stack
		}
	} else {
		out["failed"] = false
	}
	sanitize(out, append(secrets(spec, params), req.noLog...))
	return err != nil
}

// call runs the handler and turns a panic into an error: a module never dies with a Go stack on stdout.
func call(ctx context.Context, h Handler, req *Request) (res *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, &panicError{value: p, stack: string(debug.Stack())}
		}
	}()
	return h(ctx, req)
}

type panicError struct {
	value any
	stack string
}

func (p *panicError) Error() string {
	return fmt.Sprintf("module crashed (this is a bug, please report it): %v", p.value)
}

func readArgs(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read module arguments: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("module arguments in %s are not a JSON object: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("module arguments in %s: unexpected data after the JSON object", path)
	}
	if raw == nil {
		return nil, fmt.Errorf("module arguments in %s are not a JSON object: got null", path)
	}
	return raw, nil
}

func fill(out map[string]any, res *Result, flags Flags) error {
	var verr error
	if res.Values != nil {
		b, err := json.Marshal(res.Values)
		var vals map[string]any
		if err == nil {
			err = json.Unmarshal(b, &vals)
		}
		if err != nil {
			verr = fmt.Errorf("encode module result values: %w", err)
		}
		for k, v := range vals {
			out[k] = v
		}
	}
	out["changed"] = res.Changed
	if res.Skipped {
		out["skipped"] = true
	}
	if res.Msg != "" {
		out["msg"] = res.Msg
	}
	if flags.Diff && len(res.Diff) > 0 {
		if len(res.Diff) == 1 {
			out["diff"] = res.Diff[0]
		} else {
			out["diff"] = res.Diff
		}
	}
	if len(res.Warnings) > 0 {
		out["warnings"] = res.Warnings
	}
	if len(res.Deprecations) > 0 {
		out["deprecations"] = res.Deprecations
	}
	return verr
}

// Version is stamped at build time (-X …/internal/ansible.Version=…); `<module> --version` prints it.
var Version = "dev"
