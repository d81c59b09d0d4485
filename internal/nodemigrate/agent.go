package nodemigrate

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// restartAgent deletes the node's Cilium agent pod and waits for a ready replacement on the node,
// so the agent re-reads its per-node configuration (the CiliumNodeConfig the label selects). The
// node remembers the replacement's UID in an annotation: when that pod is still the node's agent,
// the restart already happened and nothing is done.
func restartAgent(ctx context.Context, kube kubernetes.Interface, node *corev1.Node, p Parameters, res *Result, checkOnly bool) error {
	agent, err := agentPod(ctx, kube, node.Name, p)
	if err != nil {
		return err
	}
	if agent == nil {
		return fmt.Errorf("no Cilium agent pod on node %s (pods %q in namespace %s): is Cilium installed and scheduled there?",
			node.Name, p.AgentSelector, p.AgentNamespace)
	}
	res.AgentPod = AgentPod{Previous: podRef(agent), Current: podRef(agent)}
	done := node.Annotations[defaults.AgentRestartedAnnotation] == string(agent.UID)
	res.Before = fmt.Sprintf("node: %s\nagent pod: %s (uid %s)\n", node.Name, podRef(agent), agent.UID)
	res.After = res.Before
	if done {
		return nil
	}
	res.After = fmt.Sprintf("node: %s\nagent pod: a new, ready replacement of %s\n", node.Name, podRef(agent))
	res.Plan = append(res.Plan, fmt.Sprintf("delete Cilium agent pod %s and wait for a ready replacement on node %s", podRef(agent), node.Name))
	if checkOnly {
		return nil
	}
	uid := agent.UID
	err = kube.CoreV1().Pods(agent.Namespace).Delete(ctx, agent.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete Cilium agent pod %s: %w", podRef(agent), err)
	}
	fresh, err := awaitAgent(ctx, kube, node.Name, uid, p)
	if err != nil {
		return err
	}
	res.AgentPod.Current = podRef(fresh)
	return annotateRestarted(ctx, kube, node.Name, fresh.UID)
}

// agentPod returns the node's live agent pod (not terminating), nil when there is none.
func agentPod(ctx context.Context, kube kubernetes.Interface, node string, p Parameters) (*corev1.Pod, error) {
	pods, err := podsOnNode(ctx, kube, node, p.AgentNamespace, p.AgentSelector)
	if err != nil {
		return nil, err
	}
	for i := range pods {
		if pods[i].DeletionTimestamp == nil {
			return &pods[i], nil
		}
	}
	return nil, nil
}

// awaitAgent waits for an agent pod on the node that is not the deleted one and is Ready.
func awaitAgent(ctx context.Context, kube kubernetes.Interface, node string, old types.UID, p Parameters) (*corev1.Pod, error) {
	var fresh *corev1.Pod
	cond := func(ctx context.Context) (bool, string, error) {
		pod, err := agentPod(ctx, kube, node, p)
		if err != nil {
			return false, "", err
		}
		switch {
		case pod == nil:
			return false, "no agent pod on the node yet", nil
		case pod.UID == old:
			return false, "the old agent pod " + podRef(pod) + " is still there", nil
		case !ready(pod):
			return false, fmt.Sprintf("new agent pod %s is %s, not Ready", podRef(pod), pod.Status.Phase), nil
		}
		fresh = pod
		return true, "", nil
	}
	what := fmt.Sprintf("a new ready Cilium agent pod on node %s", node)
	if err := wait.For(ctx, what, p.Timeout, 0, cond); err != nil {
		return nil, err
	}
	return fresh, nil
}

func ready(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func annotateRestarted(ctx context.Context, kube kubernetes.Interface, node string, uid types.UID) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{defaults.AgentRestartedAnnotation: string(uid)}}})
	if err != nil {
		return fmt.Errorf("encode annotation patch: %w", err)
	}
	if _, err := kube.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("record the agent restart on node %s: %w", node, err)
	}
	return nil
}
