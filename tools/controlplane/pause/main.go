// Command pause is the pod sandbox's process in the real-node harness: it holds the pod's
// namespaces open, reaps orphaned children (it is PID 1 of a pod that shares its PID namespace)
// and exits at SIGINT or SIGTERM. It does what Kubernetes' pause container does, written here
// so the harness's pause image is built from source and no registry is needed.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
