{{/* The prefix of every name: "postgres-operator" unless overridden (the course's names). */}}
{{- define "postgres-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "postgres-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "postgres-operator.serviceAccountName" -}}
{{- include "postgres-operator.fullname" . }}-controller-manager
{{- end -}}

{{/* Labels on every object: manifests/'s, with Helm's own. */}}
{{- define "postgres-operator.labels" -}}
app.kubernetes.io/name: {{ include "postgres-operator.name" . }}
{{ include "postgres-operator.helmLabels" . }}
{{- end -}}

{{/* What Helm adds to manifests/'s labels (the CRD has only these). */}}
{{- define "postgres-operator.helmLabels" -}}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The pods' labels the Deployment, PDB, Service and NetworkPolicy select (as manifests/). */}}
{{- define "postgres-operator.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: {{ include "postgres-operator.name" . }}
{{- end -}}

{{- define "postgres-operator.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{- define "postgres-operator.metricsPortName" -}}
{{- if .Values.metrics.secure }}https{{ else }}http{{ end -}}
{{- end -}}

{{/* The ServiceAccount as an RBAC subject. */}}
{{- define "postgres-operator.subject" -}}
- kind: ServiceAccount
  name: {{ include "postgres-operator.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end -}}

{{/*
An object of manifests/ (files/ links to that folder), as manifests/default renders it: name
prefixed, namespaced objects in the release's namespace, Helm's labels, RBAC references to the
prefixed names and the release's ServiceAccount. So the chart holds no second copy of RBAC rules,
the CRD, the dashboard or the alerts. Call with (dict "root" $ "object" $parsedObject).
*/}}
{{- define "postgres-operator.object" -}}
{{- $root := .root -}}
{{- $o := deepCopy .object -}}
{{- $prefix := include "postgres-operator.fullname" $root -}}
{{- $_ := set $o.metadata "name" (printf "%s-%s" $prefix $o.metadata.name) -}}
{{- if hasKey $o.metadata "namespace" -}}
{{- $_ := set $o.metadata "namespace" $root.Release.Namespace -}}
{{- end -}}
{{- $_ := set $o.metadata "labels" (merge (include "postgres-operator.labels" $root | fromYaml) ($o.metadata.labels | default dict)) -}}
{{- if hasKey $o "roleRef" -}}
{{- $_ := set $o.roleRef "name" (printf "%s-%s" $prefix $o.roleRef.name) -}}
{{- end -}}
{{- if hasKey $o "subjects" -}}
{{- $_ := set $o "subjects" (include "postgres-operator.subject" $root | fromYamlArray) -}}
{{- end -}}
{{ toYaml $o }}
{{- end -}}

{{/* The object in files/<path> (one YAML document), through postgres-operator.object. */}}
{{- define "postgres-operator.file" -}}
{{- include "postgres-operator.object" (dict "root" .root "object" (.root.Files.Get (printf "files/%s" .path) | fromYaml)) -}}
{{- end -}}

{{/*
Checks resources.limits.memory against the V8 old-space limit compiled into the image's binary
(image.maxOldSpaceMiB; a compiled binary ignores DENO_V8_FLAGS): the limit must be at least twice
the old space (README, "Memory"), so the garbage collector works harder as the heap nears it,
before the kernel would kill the container. Fails on a quantity it cannot read rather than guess.
*/}}
{{- define "postgres-operator.checkMemoryLimit" -}}
{{- $limit := dig "limits" "memory" "" (.Values.resources | default dict) | toString -}}
{{- if $limit -}}
{{- $units := dict "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 -}}
{{- $parts := regexFindAll "^([0-9]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$" $limit 1 -}}
{{- if not $parts -}}
{{- fail (printf "resources.limits.memory %s: write a whole number of bytes, Ki, Mi, Gi, Ti, k, M, G or T, so it can be checked against the heap limit" $limit) -}}
{{- end -}}
{{- $number := regexReplaceAll "[^0-9]" $limit "" | int64 -}}
{{- $unit := regexReplaceAll "^[0-9]+" $limit "" -}}
{{- $bytes := mul $number (get $units $unit | default 1) -}}
{{- $heap := .Values.image.maxOldSpaceMiB | default 128 | int64 -}}
{{- if lt (div $bytes 1048576) (mul 2 $heap) -}}
{{- fail (printf "resources.limits.memory %s is less than twice the image's V8 old-space limit (image.maxOldSpaceMiB: %d MiB), so the kernel would kill the operator before V8 collects: raise the limit to %dMi or more, or build the image with --build-arg MAX_OLD_SPACE_MIB=<1/2 of the limit in MiB> and set image.maxOldSpaceMiB to it" $limit $heap (mul 2 $heap)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
