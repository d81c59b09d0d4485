package migration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// The kind tier's workloads are the lab's (internal/testbed/lab/manifests): the ML-platform namespaces,
// Deployments, StatefulSets, DaemonSets, PDBs, the bare pod, Kubernetes NetworkPolicies and Calico's
// own policies — with every container running the tier's probe image as an HTTP server on the port
// it declares, so the traffic between them is real. Left out: K3s' own CoreDNS from 10-coredns.yaml
// (kind's nodes run kubeadm's CoreDNS in its place); its hostNetwork DaemonSet stays.

const k3sCoreDNSFile = "10-coredns.yaml"

// kindWorkloads renders the lab's workloads and Calico policies for the kind tier.
func kindWorkloads(root, image string) (string, error) {
	var docs []string
	for _, dir := range []string{"workloads", "calico-policies"} {
		files, err := filepath.Glob(filepath.Join(root, "internal", "testbed", "lab", "manifests", dir, "*.yaml"))
		if err != nil || len(files) == 0 {
			return "", fmt.Errorf("lab manifests %s: %v (none found)", dir, err)
		}
		sort.Strings(files)
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				return "", err
			}
			for _, doc := range splitYAML(string(raw)) {
				var obj map[string]any
				if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
					return "", fmt.Errorf("%s: %w", f, err)
				}
				if obj == nil || (filepath.Base(f) == k3sCoreDNSFile && obj["kind"] != "DaemonSet") {
					continue
				}
				if err := realContainers(obj, image); err != nil {
					return "", fmt.Errorf("%s: %w", f, err)
				}
				out, err := yaml.Marshal(obj)
				if err != nil {
					return "", err
				}
				docs = append(docs, string(out))
			}
		}
	}
	return strings.Join(docs, "---\n"), nil
}

func splitYAML(s string) []string {
	var out []string
	for _, d := range strings.Split("\n"+s, "\n---") {
		if strings.TrimSpace(d) != "" {
			out = append(out, d)
		}
	}
	return out
}

// realContainers makes each container of a workload's pod template the probe image's HTTP server
// on its first declared port (8080 when none), without resource requests (three kind nodes share
// two cores); a CronJob's job exits at once.
func realContainers(obj map[string]any, image string) error {
	var spec map[string]any
	path := map[string][]string{
		"Deployment":  {"spec", "template", "spec"},
		"StatefulSet": {"spec", "template", "spec"},
		"DaemonSet":   {"spec", "template", "spec"},
		"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
		"Pod":         {"spec"},
	}[fmt.Sprint(obj["kind"])]
	if path == nil {
		return nil
	}
	spec = obj
	for _, k := range path {
		next, ok := spec[k].(map[string]any)
		if !ok {
			return fmt.Errorf("%s %v: no %s", obj["kind"], obj["metadata"], strings.Join(path, "."))
		}
		spec = next
	}
	containers, _ := spec["containers"].([]any)
	for _, c := range containers {
		c := c.(map[string]any)
		port := 8080
		if ports, _ := c["ports"].([]any); len(ports) > 0 {
			if p, ok := ports[0].(map[string]any)["containerPort"].(float64); ok {
				port = int(p)
			}
		}
		c["image"] = image
		c["imagePullPolicy"] = "Never"
		delete(c, "resources")
		if obj["kind"] == "CronJob" {
			c["command"], c["args"] = []any{"sh", "-c", "true"}, nil
			continue
		}
		c["command"] = []any{"/usr/local/bin/echo"}
		c["args"] = []any{"netexec", fmt.Sprintf("--http-port=%d", port), "--shutdown-delay=3s"}
		c["env"] = []any{map[string]any{"name": "POD_NAME", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.name"}}}}
		c["readinessProbe"] = map[string]any{"httpGet": map[string]any{"path": "/healthz", "port": port}, "periodSeconds": 2}
	}
	return nil
}

// proberNamespace holds the disruption prober: a Service with two replicas on different nodes
// under a PodDisruptionBudget, and one client per node (a DaemonSet: the live strategy moves
// DaemonSet pods last, so a client keeps probing while its node moves).
//
// The echo pods and the clients request CPU, as a production Service does: without requests they
// were BestEffort pods like Cilium's agents (the chart sets no resources), and when the three
// agents compiled their BPF programs at once on this machine's two cores, the echo pods starved
// beside them. Their readiness probe (1 s period) tolerates 10 s of failures before it takes a
// replica out: starved kubelets had marked both replicas unready at once, which the Service
// answers with "connection refused". A replica whose datapath really breaks stays in the Service
// longer this way, so the measurement gets stricter, not looser; a drained replica still leaves
// the Service at once (terminating endpoints are not ready).
const proberNamespace = "cnimigrate-prober"

// The prober's rate per client and target (one client per node: 3 nodes send 12 requests per
// second to each target), and its timeout per request. The rate is kept low because this machine
// has two cores for three nodes: every request the prober adds is CPU the datapath under test lacks.
const (
	proberRate    = 4
	proberTimeout = 2 * time.Second
)

func proberManifests(image string) string {
	return strings.NewReplacer("IMAGE", image, "RATE", fmt.Sprint(proberRate), "TIMEOUT", proberTimeout.String()).Replace(`apiVersion: v1
kind: Namespace
metadata:
  name: cnimigrate-prober
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: prober, namespace: cnimigrate-prober}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: prober, namespace: cnimigrate-prober}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: prober, namespace: cnimigrate-prober}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: prober}
subjects:
- {kind: ServiceAccount, name: prober, namespace: cnimigrate-prober}
---
apiVersion: v1
kind: Service
metadata: {name: prober-echo, namespace: cnimigrate-prober}
spec:
  selector: {app: prober-echo}
  ports:
  - {name: http, port: 8080, targetPort: 8080}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: prober-echo, namespace: cnimigrate-prober}
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: prober-echo}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: prober-echo, namespace: cnimigrate-prober}
spec:
  replicas: 2
  selector:
    matchLabels: {app: prober-echo}
  template:
    metadata:
      labels: {app: prober-echo}
    spec:
      terminationGracePeriodSeconds: 30
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              topologyKey: kubernetes.io/hostname
              labelSelector:
                matchLabels: {app: prober-echo}
      containers:
      - name: echo
        image: IMAGE
        imagePullPolicy: Never
        args: [netexec, --http-port=8080, --shutdown-delay=15s]
        env:
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        ports:
        - {containerPort: 8080, name: http}
        resources:
          requests: {cpu: 100m}
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
          timeoutSeconds: 2
          failureThreshold: 10
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: prober-client, namespace: cnimigrate-prober}
spec:
  selector:
    matchLabels: {app: prober-client}
  template:
    metadata:
      labels: {app: prober-client}
    spec:
      serviceAccountName: prober
      terminationGracePeriodSeconds: 5
      tolerations:
      - {operator: Exists}
      containers:
      - name: prober
        image: IMAGE
        imagePullPolicy: Never
        args: [prober, --rate=RATE, --service=prober-echo, --pods=app=prober-echo, --port=8080, --timeout=TIMEOUT]
        resources:
          requests: {cpu: 50m}
        env:
        - name: NODE_NAME
          valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
`)
}

// kubectlApply applies a YAML stream server-side.
func kubectlApply(ctx context.Context, kubectl, kubeconfig, manifest string) error {
	apply := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "apply", "--server-side", "-f", "-")
	apply.Stdin = strings.NewReader(manifest)
	if out, err := apply.CombinedOutput(); err != nil {
		return fmt.Errorf("kubectl apply: %v: %s", err, out)
	}
	return nil
}

// waitPodsReady waits until every pod of the cluster that is not finished is Ready.
func waitPodsReady(ctx context.Context, kubectl, kubeconfig, what string, timeout time.Duration) error {
	return wait.For(ctx, what, timeout, 3*time.Second, func(ctx context.Context) (bool, string, error) {
		out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "get", "pods", "-A", "-o", "json").Output()
		if err != nil {
			return false, err.Error(), nil
		}
		var list struct {
			Items []struct {
				Metadata struct{ Namespace, Name string }
				Status   struct {
					Phase      string
					Conditions []struct{ Type, Status string }
				}
			}
		}
		if err := json.Unmarshal(out, &list); err != nil {
			return false, "", err
		}
		var notReady []string
		for _, p := range list.Items {
			if p.Status.Phase == "Succeeded" || p.Status.Phase == "Failed" {
				continue
			}
			ready := false
			for _, c := range p.Status.Conditions {
				ready = ready || (c.Type == "Ready" && c.Status == "True")
			}
			if !ready {
				notReady = append(notReady, p.Metadata.Namespace+"/"+p.Metadata.Name)
			}
		}
		if len(notReady) > 0 {
			return false, fmt.Sprintf("%d pods not ready: %s", len(notReady), strings.Join(notReady[:min(4, len(notReady))], ", ")), nil
		}
		return true, "", nil
	})
}

// kubectlOut runs kubectl and returns its standard output.
func kubectlOut(ctx context.Context, kubectl, kubeconfig string, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, firstLine(stderr.String()))
	}
	return string(out), nil
}

func TestKindWorkloadsRunTheProbeImage(t *testing.T) {
	out, err := kindWorkloads(repoRoot(t), "probe:1")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, doc := range splitYAML(out) {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		kinds[fmt.Sprint(obj["kind"])]++
		meta, _ := obj["metadata"].(map[string]any)
		if obj["kind"] == "Deployment" && meta["name"] == "mlflow" {
			c := obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
			if c["image"] != "probe:1" || fmt.Sprint(c["args"]) != "[netexec --http-port=5000 --shutdown-delay=3s]" || c["resources"] != nil {
				t.Errorf("mlflow's container: %v", c)
			}
		}
		if meta["namespace"] == "kube-system" && obj["kind"] != "DaemonSet" {
			t.Errorf("K3s' CoreDNS object %s/%s would replace kind's", obj["kind"], meta["name"])
		}
	}
	for _, k := range []string{"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Pod", "NetworkPolicy", "GlobalNetworkPolicy", "PodDisruptionBudget"} {
		if kinds[k] == 0 {
			t.Errorf("no %s rendered (got %v)", k, kinds)
		}
	}
}
