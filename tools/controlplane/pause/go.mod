module postgres-operator/tools/controlplane/pause

go 1.26.0
