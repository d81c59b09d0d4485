package k3sconfig

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Parameters say where K3s' configuration is.
type Parameters struct {
	// ConfigFile is K3s' config file (its drop-ins are ConfigFile + ".d"); default
	// /etc/rancher/k3s/config.yaml. A --config on the service's command line (or K3S_CONFIG_FILE
	// in its Environment=) wins, as in K3s.
	ConfigFile string
	// UnitFiles are the systemd units K3s may run as; the first that exists is read. Default
	// k3s.service, then k3s-agent.service, in /etc/systemd/system.
	UnitFiles []string
}

// Report is what K3s makes of the watched flags on this node, and where it looked.
type Report struct {
	// Found is false when no config file, drop-in or unit exists: nothing here says how K3s runs
	// (or K3s does not run here).
	Found       bool            `json:"found"`
	ConfigFiles []string        `json:"config_files"` // read, in order
	UnitFiles   []string        `json:"unit_files"`   // the unit and its drop-ins read
	Command     string          `json:"command"`      // server, agent, or "" (no unit, or not k3s)
	Flags       map[string]Flag `json:"flags"`
	// Warnings are what the report cannot see (flags behind environment variables, a unit that
	// does not run k3s). Secrets are the values of secret keys and flags met on the way: never
	// reported, for the caller to keep out of its output.
	Warnings []string `json:"-"`
	Secrets  []string `json:"-"`
}

// Read reads K3s' configuration. On an error the Report still carries the secrets met so far.
func Read(p Parameters) (*Report, error) {
	if p.ConfigFile == "" {
		p.ConfigFile = defaults.K3sConfigFile
	}
	if p.UnitFiles == nil {
		p.UnitFiles = []string{defaults.K3sServerUnit, defaults.K3sAgentUnit}
	}
	rep := &Report{ConfigFiles: []string{}, UnitFiles: []string{}, Flags: map[string]Flag{}}
	svc, err := firstService(p.UnitFiles)
	if err != nil {
		return rep, err
	}
	var cl commandLine
	unitSource, lookedIn := "", p.ConfigFile+" and "+p.ConfigFile+".d/*.yaml"
	if svc != nil {
		rep.UnitFiles, rep.Found = svc.files, true
		cl = parseCommandLine(svc.argv)
		rep.Command = cl.command
		unitSource = svc.files[0] + " (ExecStart)"
		rep.Warnings = append(rep.Warnings, serviceWarnings(svc, cl)...)
		if f := cl.configFile(); f != "" {
			p.ConfigFile = f
		}
		if f := svc.env["K3S_CONFIG_FILE"]; f != "" {
			p.ConfigFile = f
		}
		lookedIn = p.ConfigFile + ", " + p.ConfigFile + ".d/*.yaml and the ExecStart of " + svc.files[0]
	}
	set := settings{}
	read, secrets, err := readConfigFiles(p.ConfigFile, watchedNames(), set)
	rep.Secrets = append(rep.Secrets, secrets...)
	rep.ConfigFiles = append(rep.ConfigFiles, read...)
	rep.Found = rep.Found || len(read) > 0
	if err != nil {
		return rep, err
	}
	rep.Secrets = append(rep.Secrets, cl.apply(unitSource, set)...)
	if !rep.Found {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("no K3s configuration here: none of %s, %s.d/*.yaml, %s exists; "+
			"every flag has K3s' default", p.ConfigFile, p.ConfigFile, strings.Join(p.UnitFiles, ", ")))
	}
	names := make([]string, 0, len(watched))
	for name := range watched {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f, err := resolve(name, set[name], lookedIn)
		if err != nil {
			return rep, err
		}
		rep.Flags[name] = f
	}
	return rep, nil
}

// firstService reads the first of the units that exists (nil when none does).
func firstService(units []string) (*service, error) {
	for _, u := range units {
		svc, err := readService(u)
		if err != nil || svc != nil {
			return svc, err
		}
	}
	return nil, nil
}

func serviceWarnings(svc *service, cl commandLine) []string {
	var out []string
	if cl.command == "" {
		out = append(out, fmt.Sprintf("the ExecStart of %s does not run `k3s server` or `k3s agent`: its flags are not read",
			svc.files[0]))
	}
	if refs := envRefs(svc.argv); len(refs) > 0 {
		out = append(out, fmt.Sprintf("the ExecStart of %s expands %s from its environment files, which are not read "+
			"(they hold K3S_TOKEN): flags passed that way are not seen", svc.files[0], strings.Join(refs, ", ")))
	}
	return out
}
