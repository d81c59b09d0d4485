// Package k8s builds Kubernetes clients from a kubeconfig the way our modules find it on a K3s
// node: an explicit path, else /etc/rancher/k3s/k3s.yaml, else $KUBECONFIG, else ~/.kube/config.
package k8s
