// Package ansible implements the Ansible binary-module protocol once, for every module of this
// project: it reads the args file Ansible writes, validates the task's options against an argument
// spec with Ansible's own coercions and error sentences, honours the _ansible_* flags (check mode,
// diff, no_log, verbosity), and writes exactly one JSON result object to stdout.
//
// It is the only package that writes to stdout or calls os.Exit, and it imports nothing of ours:
// domain packages never import it; modules/<module> packages glue the two together.
package ansible
