package ansiblee2e

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestInventoriesSetOnlyWhatIsRead: the shipped inventories hold a cluster's facts and the values
// that differ from the roles' defaults, nothing else. A variable no role, playbook or template reads
// (a typo, or a knob that was renamed or removed) would be silently ignored by Ansible: it fails
// here, named with its file. A copy of a role default word for word fails too: editing the role's
// default would change nothing for the users of that inventory.
func TestInventoriesSetOnlyWhatIsRead(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	// Everything the Ansible side reads: roles (tasks, defaults, templates, handlers, meta) and playbooks.
	var corpus strings.Builder
	defaults := map[string]any{}
	for _, pattern := range []string{"roles/*/*/*.yml", "roles/*/templates/*.j2", "playbooks/*.yml"} {
		files, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(filepath.Dir(f)) == "defaults" {
				var d map[string]any
				if err := yaml.Unmarshal(data, &d); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				for k, v := range d {
					defaults[k] = v
				}
				// A default is read only where another default or a task uses it: keep the values,
				// drop the "name:" side so that a variable does not count as read by its own definition.
				data = regexp.MustCompile(`(?m)^[a-z0-9_]+:`).ReplaceAll(data, nil)
			}
			corpus.Write(data)
			corpus.WriteByte('\n')
		}
	}
	text := corpus.String()
	files, err := filepath.Glob(filepath.Join(root, "inventory", "*", "group_vars", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no inventory group_vars found: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var vars map[string]any
		if err := yaml.Unmarshal(data, &vars); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		rel, _ := filepath.Rel(root, f)
		var names []string
		for k := range vars {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(k) + `\b`).MatchString(text) {
				t.Errorf("%s sets %s, which no role, template or playbook reads", rel, k)
			}
			if d, ok := defaults[k]; ok && equalYAML(d, vars[k]) {
				t.Errorf("%s sets %s to its role default %v: leave it to the role (a changed default would never reach this inventory)", rel, k, d)
			}
		}
	}
}

func equalYAML(a, b any) bool {
	x, errA := yaml.Marshal(a)
	y, errB := yaml.Marshal(b)
	return errA == nil && errB == nil && string(x) == string(y)
}
