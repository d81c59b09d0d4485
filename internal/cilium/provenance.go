package cilium

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"

	"helm.sh/helm/v4/pkg/downloader"
)

// The values of the verify option.
const (
	// VerifyAuto checks the chart's provenance when a .prov sits beside it (and a keyring is set),
	// and otherwise installs it with a warning that it was not verified.
	VerifyAuto = "auto"
	// VerifyAlways refuses a chart without a valid .prov signed by a key in the keyring.
	VerifyAlways = "always"
	// VerifyNever skips the check.
	VerifyNever = "never"
)

// The provenance statuses of the result.
const (
	ProvenanceVerified   = "verified"
	ProvenanceUnverified = "unverified"
	ProvenanceSkipped    = "skipped"
)

// Provenance says whether the chart's signature was checked and by whom it was signed.
type Provenance struct {
	Status   string   `json:"status"`              // verified, unverified or skipped
	SignedBy []string `json:"signed_by,omitempty"` // the signing key's identities
	FileHash string   `json:"file_hash,omitempty"` // the verified archive's sha256
	Reason   string   `json:"reason,omitempty"`    // why it was not verified
}

// checkVerify validates verify and keyring (the keyring is a file on the host running the module).
func (p *Parameters) checkVerify() error {
	switch p.Verify {
	case VerifyAuto, VerifyAlways, VerifyNever:
	default:
		return fmt.Errorf("verify must be one of auto, always, never, got %q", p.Verify)
	}
	if p.Verify == VerifyAlways && p.Keyring == "" {
		return errors.New("verify=always needs keyring: the public keyring (gpg --export) holding the chart signer's key")
	}
	if p.Keyring != "" {
		if _, err := os.Stat(p.Keyring); err != nil {
			return fmt.Errorf("keyring %s: %w", p.Keyring, err)
		}
	}
	return nil
}

// checkProvenance verifies a chart archive against the .prov beside it, as `helm verify` does
// (provName names that .prov in messages).
// A failed check is an error whatever verify says: a .prov that does not match is a tampered chart
// or a wrong key. What cannot be checked is an error under always and a reason under auto.
func checkProvenance(ref, archive, provName, verify, keyring string) (*Provenance, error) {
	if verify == VerifyNever {
		return &Provenance{Status: ProvenanceSkipped, Reason: "verify is never"}, nil
	}
	unverified := func(reason string) (*Provenance, error) {
		if verify == VerifyAlways {
			return nil, fmt.Errorf("chart_ref %s cannot be verified (verify=always): %s", ref, reason)
		}
		return &Provenance{Status: ProvenanceUnverified, Reason: reason}, nil
	}
	if fi, err := os.Stat(archive); err == nil && fi.IsDir() {
		return unverified("it is a chart directory; Helm verifies only a packaged chart (.tgz) with its .prov")
	}
	prov := archive + ".prov"
	if _, err := os.Stat(prov); errors.Is(err, fs.ErrNotExist) {
		return unverified("no provenance file " + provName)
	} else if err != nil {
		return nil, fmt.Errorf("chart_ref %s: provenance file: %w", ref, err)
	}
	if keyring == "" {
		return unverified("it has a provenance file but no keyring is set")
	}
	v, err := downloader.VerifyChart(archive, prov, keyring)
	if err != nil {
		return nil, fmt.Errorf("chart_ref %s failed provenance check against keyring %s: %w", ref, keyring, err)
	}
	out := &Provenance{Status: ProvenanceVerified, FileHash: v.FileHash}
	if v.SignedBy != nil {
		for name := range v.SignedBy.Identities {
			out.SignedBy = append(out.SignedBy, name)
		}
		sort.Strings(out.SignedBy)
	}
	return out, nil
}

// warning is the module warning for a chart that was not verified ("" when it was, or was not to be).
func (pv *Provenance) warning(ref string) string {
	if pv == nil || pv.Status != ProvenanceUnverified {
		return ""
	}
	return fmt.Sprintf("chart %s was not verified: %s", ref, pv.Reason)
}
