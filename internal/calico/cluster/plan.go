package cluster

import (
	"fmt"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Removal steps, in the order migration-facts.md gives: the operator's CRs while the operator still
// runs to clean up after them, then the operator, then the APIService (a stale one blocks namespace
// deletion), then the manifest's objects, the namespaces, and the CRDs (with every object of theirs).
const (
	StepAPIServer    = "apiserver-cr"
	StepInstallation = "installation-cr"
	StepDrain        = "calico-system-empty"
	StepOperator     = "tigera-operator"
	StepAPIService   = "apiservice"
	StepManifest     = "manifest-objects"
	StepNamespaces   = "namespaces"
	StepCRDs         = "crds"
)

// Plan actions.
const (
	ActionDelete  = "delete"
	ActionWait    = "wait until empty"
	ActionWithCRD = "deleted with its CRD"
)

// step is one stage of the removal: objects deleted and waited for together, or (drain) a
// namespace waited for.
type step struct {
	name    string
	deletes []Ref
	drain   string
	withCRD []Ref // shown in the plan only: the CRD's deletion removes them
}

// Entry is one line of a plan.
type Entry struct {
	Step   string `json:"step"`
	Action string `json:"action"`
	Object string `json:"object"`
}

// buildPlan orders what inv holds into removal steps; steps with nothing to do are left out.
func buildPlan(inv *inventory) []step {
	var steps []step
	add := func(s step) {
		if len(s.deletes) > 0 || s.drain != "" {
			steps = append(steps, s)
		}
	}
	add(step{name: StepAPIServer, deletes: crRefs(inv.cr("apiservers", defaults.TigeraOperatorGroup))})
	add(step{name: StepInstallation, deletes: crRefs(inv.cr("installations", defaults.TigeraOperatorGroup))})
	if contains(inv.namespaces, defaults.CalicoSystemNamespace) {
		add(step{name: StepDrain, drain: defaults.CalicoSystemNamespace})
	}
	var operator, manifest []Ref
	for _, ko := range inv.targets {
		for i := range ko.Objects {
			ref := refOf(ko.GVR, &ko.Objects[i])
			if ko.GVR == gvrDeployment && ref.Namespace == defaults.TigeraOperatorNS && ref.Name == tigeraOperator {
				operator = append(operator, ref)
			} else {
				manifest = append(manifest, ref)
			}
		}
	}
	add(step{name: StepOperator, deletes: operator})
	if inv.apiService {
		add(step{name: StepAPIService, deletes: []Ref{{GVR: gvrAPIService, Name: defaults.CalicoAPIServiceName}}})
	}
	add(step{name: StepManifest, deletes: manifest})
	var nss []Ref
	for _, ns := range inv.namespaces {
		nss = append(nss, Ref{GVR: gvrNamespace, Name: ns})
	}
	add(step{name: StepNamespaces, deletes: nss})
	crds := step{name: StepCRDs, deletes: crRefs(&inv.crds)}
	for i := range inv.crs {
		crds.withCRD = append(crds.withCRD, crRefs(&inv.crs[i])...)
	}
	add(crds)
	return steps
}

func crRefs(ko *KindObjects) []Ref {
	if ko == nil {
		return nil
	}
	out := make([]Ref, 0, len(ko.Objects))
	for i := range ko.Objects {
		out = append(out, refOf(ko.GVR, &ko.Objects[i]))
	}
	return out
}

// entries flattens steps into the plan a user reads: every object, in order.
func entries(steps []step) []Entry {
	var out []Entry
	for _, s := range steps {
		if s.drain != "" {
			out = append(out, Entry{Step: s.name, Action: ActionWait, Object: Ref{GVR: gvrNamespace, Name: s.drain}.String()})
		}
		for _, r := range s.deletes {
			out = append(out, Entry{Step: s.name, Action: ActionDelete, Object: r.String()})
		}
		for _, r := range s.withCRD {
			out = append(out, Entry{Step: s.name, Action: ActionWithCRD, Object: r.String()})
		}
	}
	return out
}

// RenderPlan shows a plan as the "before" text of a diff.
func RenderPlan(plan []Entry) string {
	var b strings.Builder
	for _, e := range plan {
		fmt.Fprintf(&b, "%-20s %-22s %s\n", e.Step, e.Action, e.Object)
	}
	return b.String()
}

// snapshot is what a removal backs up: every Calico CRD and object, every object deleted one by
// one, the Secrets and ConfigMaps of the namespaces it deletes, and every Kubernetes NetworkPolicy.
func (inv *inventory) snapshot() []KindObjects {
	out := []KindObjects{cleaned(inv.crds)}
	for _, ko := range inv.crs {
		out = append(out, cleaned(ko))
	}
	out = append(out, cleaned(inv.nsObjects))
	var rest []KindObjects
	for _, ko := range inv.targets {
		rest = append(rest, cleaned(ko))
	}
	for _, ko := range inv.nsContents {
		rest = merged(rest, []KindObjects{cleaned(ko)})
	}
	return append(append(out, rest...), cleaned(inv.policies))
}

func cleaned(ko KindObjects) KindObjects {
	c := KindObjects{GVR: ko.GVR, Kind: ko.Kind, Namespaced: ko.Namespaced}
	for i := range ko.Objects {
		c.Objects = append(c.Objects, *clean(&ko.Objects[i]))
	}
	return c
}
