# The course's make targets (kubebuilder's names), each a thin call of a `deno task`: the tasks
# are the one implementation, and `make help` lists the targets. Variables as kubebuilder's:
#
#   make docker-build IMG=registry.example.com/postgres-operator:v1 CONTAINER_TOOL=podman
#   make deploy IMG=registry.example.com/postgres-operator:v1
#   make build-installer IMG=registry.example.com/postgres-operator:v1   # -> dist/install.yaml
#
# Every target needs deno; each task names the other tool it lacks (kubectl, docker, podman,
# kind; go, to build helm once) in one line and exits 1, and make adds its own `***` line.

IMG ?= postgres-operator:latest
CONTAINER_TOOL ?= docker
PLATFORMS ?= linux/amd64,linux/arm64
INSTALLER ?= dist/install.yaml
DENO ?= deno
# Extra flags for `make run`, e.g. make run ARGS="--namespace shop".
ARGS ?=
export IMG CONTAINER_TOOL PLATFORMS INSTALLER

DENO_TASK = @command -v $(DENO) >/dev/null 2>&1 || { echo "make: deno is not installed (not on PATH); install Deno 2.9.6: npm install -g deno@2.9.6" >&2; exit 1; }; $(DENO) task --quiet

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Development

.PHONY: run
run: ## Run the operator against your kubeconfig (deno task start; flags in ARGS).
	$(DENO_TASK) start $(ARGS)

.PHONY: test
test: ## Run every test against a local control plane (deno task test).
	$(DENO_TASK) test

.PHONY: lint
lint: ## Format check, lint and type check (deno task check).
	$(DENO_TASK) check

.PHONY: build
build: ## Build the binary dist/postgres-operator (deno task compile).
	$(DENO_TASK) compile

##@ Images

.PHONY: docker-build
docker-build: ## Build the image IMG with CONTAINER_TOOL (docker or podman).
	$(DENO_TASK) image

.PHONY: docker-push
docker-push: ## Push the image IMG with CONTAINER_TOOL.
	$(DENO_TASK) push

.PHONY: docker-buildx
docker-buildx: ## Build and push IMG for PLATFORMS (linux/amd64,linux/arm64).
	$(DENO_TASK) buildx

.PHONY: kind-load
kind-load: ## Load the image IMG into kind.
	$(DENO_TASK) kind:load

##@ Deployment

.PHONY: install
install: ## Install the CRD into the cluster of your kubeconfig.
	$(DENO_TASK) install

.PHONY: uninstall
uninstall: ## Remove the CRD, and with it every Database.
	$(DENO_TASK) uninstall

.PHONY: deploy
deploy: ## Deploy manifests/default with the image IMG.
	$(DENO_TASK) deploy

.PHONY: undeploy
undeploy: ## Remove everything deploy created, the CRD included.
	$(DENO_TASK) undeploy

.PHONY: build-installer
build-installer: ## Write dist/install.yaml (CRD, RBAC, Deployment, Service...) with the image IMG.
	$(DENO_TASK) installer

##@ Helm

.PHONY: helm-lint
helm-lint: ## helm lint --strict the chart charts/postgres-operator (helm built on first use).
	$(DENO_TASK) helm lint
