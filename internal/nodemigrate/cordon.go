package nodemigrate

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// CordonRecord keeps, across runs, whether each node was cordoned before the migration cordoned
// it (the migration state implements it). The record is written before the migration's cordon,
// so an interrupted run cannot take its own cordon for the operator's.
type CordonRecord interface {
	// CordonedBefore returns the recorded state; known is false when none is recorded.
	CordonedBefore(ctx context.Context, node string) (cordoned, known bool, err error)
	// RecordCordonedBefore records the state unless one is recorded, and returns the recorded one.
	RecordCordonedBefore(ctx context.Context, node string, cordoned bool) (bool, error)
	// Ref names where the record is kept, for messages.
	Ref() string
}

// cordon records the node's cordon state from before the migration (the first time), then
// cordons it.
func cordon(ctx context.Context, kube kubernetes.Interface, node *corev1.Node, p Parameters, res *Result, checkOnly bool) error {
	if p.Cordons != nil {
		before, known, err := p.Cordons.CordonedBefore(ctx, node.Name)
		if err != nil {
			return fmt.Errorf("read the recorded cordon state of node %s: %w", node.Name, err)
		}
		if !known {
			before = node.Spec.Unschedulable
			res.Plan = append(res.Plan, fmt.Sprintf("record in %s that node %s was %s before the migration",
				p.Cordons.Ref(), node.Name, cordonWord(before)))
			if !checkOnly {
				if before, err = p.Cordons.RecordCordonedBefore(ctx, node.Name, before); err != nil {
					return err
				}
			}
		}
		res.CordonedBefore = &before
	}
	return setUnschedulable(ctx, kube, node, true, res, checkOnly)
}

// uncordon uncordons the node unless it was cordoned before the migration. With a record kept, a
// node that is cordoned although no record says the migration cordoned it is left cordoned too.
func uncordon(ctx context.Context, kube kubernetes.Interface, node *corev1.Node, p Parameters, res *Result, checkOnly bool) error {
	if p.Cordons != nil {
		before, known, err := p.Cordons.CordonedBefore(ctx, node.Name)
		if err != nil {
			return fmt.Errorf("read the recorded cordon state of node %s: %w", node.Name, err)
		}
		if known {
			res.CordonedBefore = &before
		}
		switch {
		case known && before:
			res.Note = fmt.Sprintf("node %s was cordoned before the migration (recorded in %s): left cordoned",
				node.Name, p.Cordons.Ref())
			return setUnschedulable(ctx, kube, node, node.Spec.Unschedulable, res, checkOnly)
		case !known && node.Spec.Unschedulable:
			res.Note = fmt.Sprintf("node %s is cordoned, and %s does not record the migration cordoning it: left cordoned",
				node.Name, p.Cordons.Ref())
			res.Warnings = append(res.Warnings, res.Note+"; uncordon it yourself (kubectl uncordon "+node.Name+") if it should take pods")
			return setUnschedulable(ctx, kube, node, true, res, checkOnly)
		}
	}
	return setUnschedulable(ctx, kube, node, false, res, checkOnly)
}

func cordonWord(cordoned bool) string {
	if cordoned {
		return "cordoned"
	}
	return "not cordoned"
}

func setUnschedulable(ctx context.Context, kube kubernetes.Interface, node *corev1.Node, want bool, res *Result, checkOnly bool) error {
	res.Before = fmt.Sprintf("node: %s\nunschedulable: %t\n", node.Name, node.Spec.Unschedulable)
	res.After = fmt.Sprintf("node: %s\nunschedulable: %t\n", node.Name, want)
	if node.Spec.Unschedulable == want {
		return nil
	}
	verb := map[bool]string{true: "cordon", false: "uncordon"}[want]
	res.Plan = append(res.Plan, verb+" node "+node.Name)
	if checkOnly {
		return nil
	}
	patch := fmt.Sprintf(`{"spec":{"unschedulable":%t}}`, want)
	if _, err := kube.CoreV1().Nodes().Patch(ctx, node.Name, types.StrategicMergePatchType,
		[]byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("%s node %s: %w", verb, node.Name, err)
	}
	res.Unschedulable = want
	return nil
}
