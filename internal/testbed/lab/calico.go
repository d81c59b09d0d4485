package lab

import (
	"context"
	"fmt"
	"net"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// The default IP pool, as calico-node creates it from CALICO_IPV4POOL_* on first start.
const (
	calicoPoolName      = "default-ipv4-ippool"
	calicoPoolBlockSize = 26
	calicoAPIVersion    = defaults.CalicoCRDGroup + "/v1"
)

// installCalicoManifest applies calico.yaml, set up the way a K3s cluster for Calico VXLAN is: pool
// 10.42.0.0/16, VXLAN always, no IPIP (the vxlan backend, no BIRD). No calico-node runs, so the
// objects it would create at start-up (IP pool, cluster information, Felix configuration, per-node
// block affinities and node annotations) are created here.
func (l *Lab) installCalicoManifest(ctx context.Context, dir string) error {
	objs, err := readManifest(dir, "calico.yaml")
	if err != nil {
		return err
	}
	for _, u := range objs {
		switch {
		case u.GetKind() == "ConfigMap" && u.GetName() == "calico-config":
			if err := unstructured.SetNestedField(u.Object, "vxlan", "data", "calico_backend"); err != nil {
				return fmt.Errorf("set calico_backend: %w", err)
			}
		case u.GetKind() == "DaemonSet" && u.GetName() == defaults.CalicoNodeDaemonSet:
			err := setContainerEnv(u, "calico-node", map[string]string{
				"CALICO_IPV4POOL_CIDR":         defaults.K3sClusterCIDR,
				"CALICO_IPV4POOL_IPIP":         "Never",
				"CALICO_IPV4POOL_VXLAN":        "Always",
				"CALICO_IPV4POOL_NAT_OUTGOING": "true",
				"CLUSTER_TYPE":                 "k8s",
			})
			if err != nil {
				return err
			}
		}
	}
	if err := l.applyWithCRDs(ctx, objs); err != nil {
		return fmt.Errorf("install calico.yaml: %w", err)
	}
	return l.applyCalicoState(ctx)
}

// applyWithCRDs applies CRDs, waits until they are established, then applies the rest.
func (l *Lab) applyWithCRDs(ctx context.Context, objs []*unstructured.Unstructured) error {
	crds, rest := splitCRDs(objs)
	if err := l.apply.apply(ctx, crds); err != nil {
		return err
	}
	if err := l.waitCRDsEstablished(ctx, crds); err != nil {
		return err
	}
	l.apply.mapper.Reset()
	return l.apply.apply(ctx, rest)
}

// applyCalicoState creates what a running calico-node and calico-kube-controllers would have
// written to the datastore.
func (l *Lab) applyCalicoState(ctx context.Context) error {
	objs := []*unstructured.Unstructured{
		calicoObject("IPPool", calicoPoolName, map[string]any{
			"cidr": defaults.K3sClusterCIDR, "blockSize": int64(calicoPoolBlockSize), "ipipMode": "Never",
			"vxlanMode": "Always", "natOutgoing": true, "nodeSelector": "all()", "allowedUses": []any{"Workload", "Tunnel"},
		}),
		calicoObject("ClusterInformation", "default", map[string]any{
			"calicoVersion": "v3.28.5", "clusterType": "k8s,kdd", "datastoreReady": true,
		}),
		calicoObject("FelixConfiguration", "default", map[string]any{
			"bpfLogLevel": "", "floatingIPs": "Disabled", "logSeverityScreen": "Info",
			"reportingInterval": "0s", "vxlanEnabled": true,
		}),
		calicoObject("KubeControllersConfiguration", "default", map[string]any{
			"controllers": map[string]any{"node": map[string]any{"syncLabels": "Enabled"}},
		}),
	}
	for _, n := range l.nodes {
		block := calicoBlock(n.PodCIDR)
		objs = append(objs, calicoObject("BlockAffinity", fmt.Sprintf("%s-%s", n.Name, dashed(block)), map[string]any{
			"cidr": block, "node": n.Name, "state": "confirmed", "deleted": "false",
		}))
	}
	if err := l.apply.apply(ctx, objs); err != nil {
		return fmt.Errorf("create Calico's datastore objects: %w", err)
	}
	return l.annotateCalicoNodes(ctx)
}

// annotateCalicoNodes adds the annotations calico-node puts on its Node.
func (l *Lab) annotateCalicoNodes(ctx context.Context) error {
	for _, n := range l.nodes {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind("Node")
		u.SetName(n.Name)
		u.SetAnnotations(map[string]string{
			"projectcalico.org/IPv4Address":         n.IP + "/24",
			"projectcalico.org/IPv4VXLANTunnelAddr": vxlanTunnelAddr(n.PodCIDR),
		})
		if err := l.apply.applyOne(ctx, u); err != nil {
			return fmt.Errorf("annotate node for Calico: %w", err)
		}
	}
	return nil
}

func calicoObject(kind, name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetAPIVersion(calicoAPIVersion)
	u.SetKind(kind)
	u.SetName(name)
	return u
}

// calicoBlock is the node's first /26 IPAM block inside its /24 pod CIDR.
func calicoBlock(podCIDR string) string {
	ip, _, err := net.ParseCIDR(podCIDR)
	if err != nil {
		return podCIDR
	}
	return fmt.Sprintf("%s/%d", ip.String(), calicoPoolBlockSize)
}

// vxlanTunnelAddr is the first address of the node's block, which Calico gives vxlan.calico.
func vxlanTunnelAddr(podCIDR string) string {
	ip, _, err := net.ParseCIDR(podCIDR)
	if err != nil {
		return ""
	}
	ip4 := ip.To4()
	return net.IPv4(ip4[0], ip4[1], ip4[2], ip4[3]+1).String()
}

func dashed(cidr string) string {
	out := []byte(cidr)
	for i, c := range out {
		if c == '.' || c == '/' {
			out[i] = '-'
		}
	}
	return string(out)
}
