package policy

import (
	"fmt"
	"slices"
)

// Values are the module's result keys.
type Values struct {
	// Translated lists, per Calico policy that produced a Cilium object, the object and whether
	// the translation is complete.
	Translated []TranslatedPolicy `json:"translated"`
	// Untranslatable lists every construct not translated faithfully: policy, rule, field,
	// construct as written, reason.
	Untranslatable []Finding `json:"untranslatable"`
	// Notes are caveats of translated constructs and of the input.
	Notes []Finding `json:"notes"`
	// Dest is the file written (or that would be); "" when none was asked for.
	Dest        string `json:"dest"`
	DestChanged bool   `json:"dest_changed"`
	// Applied lists the objects applied to the cluster (or that would be, in check mode), each
	// with its action: create, update or unchanged.
	Applied []Change `json:"applied"`
	Summary Summary  `json:"summary"`
	// Enforcement is Cilium's policyEnforcementMode ("" when no cluster was read or Cilium is
	// absent): with "never", the applied policies take effect when the migration is finalized.
	Enforcement string `json:"enforcement"`
}

// TranslatedPolicy pairs a Calico policy with the Cilium object translated from it.
type TranslatedPolicy struct {
	Source   ObjectRef `json:"source"`
	Object   ObjectRef `json:"object"`
	Complete bool      `json:"complete"`
}

// Summary counts what happened.
type Summary struct {
	Policies       int `json:"policies"`       // Calico policies read
	Complete       int `json:"complete"`       // translated with nothing left out
	Incomplete     int `json:"incomplete"`     // with at least one untranslatable construct
	Objects        int `json:"objects"`        // Cilium objects produced
	Untranslatable int `json:"untranslatable"` // untranslatable constructs
	Notes          int `json:"notes"`
	Created        int `json:"created"`
	Updated        int `json:"updated"`
	Unchanged      int `json:"unchanged"`
}

// Message is the one-line summary of a run (check: nothing was changed).
func (s Summary) Message(check bool) string {
	created, updated := "created", "updated"
	if check {
		created, updated = "to create", "to update"
	}
	return fmt.Sprintf("%d Calico policies: %d translated completely, %d in part or not at all (%d untranslatable constructs); %d Cilium policies: %d %s, %d %s, %d unchanged",
		s.Policies, s.Complete, s.Incomplete, s.Untranslatable, s.Objects, s.Created, created, s.Updated, updated, s.Unchanged)
}

// Values gives the result keys of the plan; applied are the objects applied (all planned ones
// in check mode).
func (pl *Plan) Values(applied []Change) Values {
	v := Values{
		Translated:     []TranslatedPolicy{},
		Untranslatable: pl.Result.Report.Untranslatable(),
		Notes:          pl.Result.Report.AllNotes(),
		Dest:           pl.Parameters.Dest,
		DestChanged:    pl.DestChanged,
		Applied:        []Change{},
		Enforcement:    pl.Enforcement,
	}
	if v.Untranslatable == nil {
		v.Untranslatable = []Finding{}
	}
	if v.Notes == nil {
		v.Notes = []Finding{}
	}
	for _, p := range pl.Result.Report.Policies {
		v.Summary.Policies++
		if p.Complete {
			v.Summary.Complete++
		} else {
			v.Summary.Incomplete++
		}
		for _, o := range p.Translated {
			v.Translated = append(v.Translated, TranslatedPolicy{Source: p.Source, Object: o, Complete: p.Complete})
		}
	}
	for _, ch := range pl.Objects {
		if ch.Action == ActionUnchanged {
			v.Summary.Unchanged++
			v.Applied = append(v.Applied, ch)
		}
	}
	for _, ch := range applied {
		v.Applied = append(v.Applied, ch)
		switch ch.Action {
		case ActionCreate:
			v.Summary.Created++
		case ActionUpdate:
			v.Summary.Updated++
		}
	}
	slices.SortFunc(v.Applied, func(a, b Change) int { return compareRefs(a.ObjectRef, b.ObjectRef) })
	v.Summary.Objects = len(pl.Result.Objects)
	v.Summary.Untranslatable = len(v.Untranslatable)
	v.Summary.Notes = len(v.Notes)
	return v
}

// FileDiff is one before/after pair for --diff.
type FileDiff struct {
	Before, After, BeforeHeader, AfterHeader string
}

// Diffs renders the changes: the dest file, then each object created or updated.
func (pl *Plan) Diffs() []FileDiff {
	var out []FileDiff
	if pl.DestChanged {
		out = append(out, FileDiff{Before: string(pl.DestBefore), After: string(pl.YAML),
			BeforeHeader: pl.Parameters.Dest + " (before)", AfterHeader: pl.Parameters.Dest + " (after)"})
	}
	for _, ch := range pl.Objects {
		if ch.Action == ActionUnchanged {
			continue
		}
		out = append(out, FileDiff{Before: ch.Before, After: ch.After,
			BeforeHeader: ch.ObjectRef.String() + " (cluster)", AfterHeader: ch.ObjectRef.String() + " (translated)"})
	}
	return out
}

// PlannedChanges are the objects that would be created or updated (for check mode's applied).
func (pl *Plan) PlannedChanges() []Change {
	var out []Change
	for _, ch := range pl.Objects {
		if ch.Action != ActionUnchanged {
			out = append(out, ch)
		}
	}
	return out
}
