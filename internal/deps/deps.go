package deps

import (
	_ "github.com/coreos/go-iptables/iptables"
	_ "github.com/vishvananda/netlink"
	_ "helm.sh/helm/v4/pkg/action"
	_ "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	_ "k8s.io/client-go/dynamic"
	_ "k8s.io/client-go/kubernetes"
	_ "sigs.k8s.io/e2e-framework/pkg/env"
	_ "sigs.k8s.io/yaml"
)
