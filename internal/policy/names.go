package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Object names are stable and derived from the Calico policy's name alone:
//
//	NetworkPolicy <ns>/<name>      → CiliumNetworkPolicy <ns>/calico-<name>
//	GlobalNetworkPolicy <name>     → CiliumClusterwideNetworkPolicy calico-global-<name>
//
// A name that is not a valid Kubernetes object name once prefixed (Calico allows '_' and upper
// case) is lower-cased, has other characters replaced by '-', and gets the first 8 hex digits of
// the SHA-256 of the original name appended, so that two Calico names never collide. Names longer
// than 253 characters are cut and get the same suffix.

const maxNameLen = 253

var invalidNameChars = regexp.MustCompile(`[^a-z0-9.-]+`)

// CiliumName is the name of the Cilium policy translated from a Calico policy.
func CiliumName(global bool, name string) string {
	prefix := defaults.PolicyNamePrefix
	if global {
		prefix = defaults.PolicyGlobalNamePrefix
	}
	clean := strings.Trim(invalidNameChars.ReplaceAllString(strings.ToLower(name), "-"), ".-")
	full := prefix + clean
	if clean != name {
		full += "-" + shortHash(name)
	}
	if len(full) > maxNameLen {
		full = strings.TrimRight(full[:maxNameLen-9], ".-") + "-" + shortHash(name)
	}
	return full
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

func (c *policyCtx) meta() ObjectMeta {
	return ObjectMeta{
		Name:        CiliumName(c.global, c.p.Metadata.Name),
		Namespace:   c.ns,
		Labels:      map[string]string{defaults.ManagedByLabel: defaults.ManagedByValue},
		Annotations: map[string]string{defaults.PolicySourceAnnotation: c.sourceID()},
	}
}

// sourceID names the Calico policy: <Kind>/<namespace>/<name> or <Kind>/<name>.
func (c *policyCtx) sourceID() string {
	if c.ns != "" {
		return c.p.Kind + "/" + c.ns + "/" + c.p.Metadata.Name
	}
	return c.p.Kind + "/" + c.p.Metadata.Name
}
