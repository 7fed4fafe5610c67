{{/* Release-wide name: the release name, with "-esb" appended unless it already says esb. */}}
{{- define "esb.fullname" -}}
{{- if contains "esb" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-esb" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of one service's objects. Call with (dict "root" $ "name" $name). */}}
{{- define "esb.serviceFullname" -}}
{{- printf "%s-%s" (include "esb.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "esb.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "esb.labels" -}}
{{ include "esb.selectorLabels" . }}
app.kubernetes.io/part-of: esb
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Labels of release-wide objects (no component). */}}
{{- define "esb.commonLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: esb
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Recursive merge of two maps: values of "over" win; nested maps are merged key by key. */}}
{{- define "esb.deepMerge" -}}
{{- $out := deepCopy .base -}}
{{- range $key, $value := .over -}}
{{- $current := get $out $key -}}
{{- if and (kindIs "map" $value) (kindIs "map" $current) -}}
{{- $_ := set $out $key (include "esb.deepMerge" (dict "base" $current "over" $value) | fromYaml) -}}
{{- else -}}
{{- $_ := set $out $key $value -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
The enabled services, each merged over `defaults`, as YAML: name -> settings.
Every template ranges over `include "esb.services" . | fromYaml`.
*/}}
{{- define "esb.services" -}}
{{- $out := dict -}}
{{- range $name, $override := .Values.services -}}
{{- $svc := include "esb.deepMerge" (dict "base" $.Values.defaults "over" ($override | default dict)) | fromYaml -}}
{{- if $svc.enabled -}}
{{- if and $svc.autoscaling.enabled $svc.keda.enabled -}}
{{- fail (printf "services.%s: enable either autoscaling (HPA) or keda, not both (KEDA owns its own HPA)" $name) -}}
{{- end -}}
{{- $probePorts := list "ops" -}}
{{- range $svc.ports }}{{ $probePorts = append $probePorts .name }}{{ end -}}
{{- if not (has $svc.probes.port $probePorts) -}}
{{- fail (printf "services.%s.probes.port: %q is not one of its ports %v" $name $svc.probes.port $probePorts) -}}
{{- end -}}
{{- range $svc.rulesets -}}
{{- if not (hasKey $.Values.rulesets .) -}}
{{- fail (printf "services.%s.rulesets: %q is not defined under rulesets" $name .) -}}
{{- end -}}
{{- end -}}
{{- $_ := set $out $name $svc -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{- define "esb.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "esb.rulesetConfigMap" -}}
{{- $ruleset := get .root.Values.rulesets .name -}}
{{- if $ruleset.existingConfigMap -}}
{{- $ruleset.existingConfigMap -}}
{{- else -}}
{{- printf "%s-rules-%s" (include "esb.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "esb.consumerGroup" -}}
{{- .svc.consumerGroup | default .name -}}
{{- end -}}

{{- define "esb.usesSasl" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}true{{ end -}}
{{- end -}}

{{- define "esb.usesTls" -}}
{{- if or (eq .Values.kafka.securityProtocol "SSL") (eq .Values.kafka.securityProtocol "SASL_SSL") }}true{{ end -}}
{{- end -}}

{{/* OTEL_RESOURCE_ATTRIBUTES: release-wide attributes, the pod's identity, then otel.resourceAttributes. */}}
{{- define "esb.resourceAttributes" -}}
{{- $attrs := list "service.namespace=esb" (printf "service.version=%s" .root.Chart.AppVersion) "k8s.pod.name=$(K8S_POD_NAME)" "k8s.namespace.name=$(K8S_NAMESPACE)" (printf "k8s.deployment.name=%s" (include "esb.serviceFullname" .)) -}}
{{- range $key, $value := .root.Values.otel.resourceAttributes -}}
{{- $attrs = append $attrs (printf "%s=%s" $key $value) -}}
{{- end -}}
{{- join "," $attrs -}}
{{- end -}}
