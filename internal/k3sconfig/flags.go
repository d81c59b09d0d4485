package k3sconfig

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// The K3s flags the migration depends on.
const (
	FlannelBackend       = "flannel-backend"
	DisableNetworkPolicy = "disable-network-policy"
	ClusterCIDR          = "cluster-cidr"
	DisableKubeProxy     = "disable-kube-proxy"
)

// kind is how K3s (urfave/cli) takes a flag.
type kind int

const (
	kindString kind = iota // the last value wins
	kindBool               // --flag is true; --flag=false; the last one wins
	kindList               // every value adds; each may hold several, comma-separated
)

// watchedFlag is a flag this package reports: how K3s takes it, its default, and what a value
// means for the cluster's CNI.
type watchedFlag struct {
	kind  kind
	def   any
	means func(v any) string
}

var watched = map[string]watchedFlag{
	FlannelBackend: {kindString, "vxlan", func(v any) string {
		if v == "none" {
			return "flannel is off"
		}
		return fmt.Sprintf("K3s runs flannel (backend %s), which would fight the new CNI for the pods' network", v)
	}},
	DisableNetworkPolicy: {kindBool, false, func(v any) string {
		if v == true {
			return "K3s' network policy controller is off"
		}
		return "K3s runs its own network policy controller (kube-router), which enforces NetworkPolicies beside the CNI"
	}},
	ClusterCIDR: {kindList, []string{defaults.K3sClusterCIDR}, func(v any) string {
		return "pod addresses come from " + strings.Join(v.([]string), ", ")
	}},
	DisableKubeProxy: {kindBool, false, func(v any) string {
		if v == true {
			return "K3s runs no kube-proxy: Services work only if the CNI replaces it"
		}
		return "K3s runs kube-proxy"
	}},
}

func watchedNames() map[string]bool {
	out := make(map[string]bool, len(watched))
	for name := range watched {
		out[name] = true
	}
	return out
}

// Flag is what K3s makes of one flag.
type Flag struct {
	// Value is the effective value: a string (flannel-backend), a bool (disable-*) or a list of
	// CIDRs (cluster-cidr); K3s' default when the flag is not set.
	Value any `json:"value"`
	// Set is false when neither the config files nor the command line set the flag.
	Set bool `json:"set"`
	// Source is where the value comes from: config files, or "<unit> (ExecStart)"; "" when unset.
	Source string `json:"source"`
	// Description says all of it in a sentence: value, source (or where it was looked for) and
	// what it means for the CNI.
	Description string `json:"description"`
}

// resolve turns what the configuration set for a flag into its Flag. lookedIn names the places
// searched, for an unset flag's description.
func resolve(name string, st *setting, lookedIn string) (Flag, error) {
	w := watched[name]
	if st == nil {
		return Flag{Value: w.def, Description: fmt.Sprintf("%s is not set (looked in %s), so K3s' default %s applies: %s",
			name, lookedIn, render(w.def), w.means(w.def))}, nil
	}
	source := strings.Join(unique(st.sources), ", ")
	var v any
	switch w.kind {
	case kindString:
		v = st.values[len(st.values)-1]
	case kindBool:
		last := st.values[len(st.values)-1]
		b, err := strconv.ParseBool(last)
		if err != nil {
			return Flag{}, fmt.Errorf("%s is %q in %s: not true or false, K3s would not start with it", name, last, source)
		}
		v = b
	case kindList:
		var list []string
		for _, e := range st.values {
			for _, part := range strings.Split(e, ",") {
				if part = strings.TrimSpace(part); part != "" {
					list = append(list, part)
				}
			}
		}
		v = list
	}
	return Flag{Value: v, Set: true, Source: source,
		Description: fmt.Sprintf("%s is %s (set in %s): %s", name, render(v), source, w.means(v))}, nil
}

func render(v any) string {
	if list, ok := v.([]string); ok {
		return strings.Join(list, ",")
	}
	return fmt.Sprint(v)
}

func unique(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
