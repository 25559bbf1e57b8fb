{{/*
The chart's name, truncated to 63 characters (a DNS label).
*/}}
{{- define "mwcdc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The full name of the release's objects: the release name, prefixed with the chart name
unless it already contains it.
*/}}
{{- define "mwcdc.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "mwcdc.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels of every object.
*/}}
{{- define "mwcdc.labels" -}}
helm.sh/chart: {{ include "mwcdc.chart" . }}
{{ include "mwcdc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
Labels the Deployment and the Service select the pod by.
*/}}
{{- define "mwcdc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mwcdc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
The Secret holding source-password (and optionally kafka-sasl-password): the chart's own, or
secret.existingSecret.
*/}}
{{- define "mwcdc.secretName" -}}
{{- if .Values.secret.create -}}
{{- if .Values.secret.existingSecret -}}
{{- fail "secret.existingSecret is set but secret.create is true, which would ignore it: set secret.create=false to use the existing Secret, or unset secret.existingSecret to have the chart create one from secret.sourcePassword" -}}
{{- end -}}
{{- include "mwcdc.fullname" . -}}
{{- else -}}
{{- required "secret.existingSecret is required when secret.create is false: the name of a Secret with the key source-password (and optionally kafka-sasl-password)" .Values.secret.existingSecret -}}
{{- end -}}
{{- end -}}

{{/*
The PersistentVolumeClaim of the state directory: the chart's own, or persistence.existingClaim.
*/}}
{{- define "mwcdc.claimName" -}}
{{- default (include "mwcdc.fullname" .) .Values.persistence.existingClaim -}}
{{- end -}}

{{/*
One entry of secretMounts, its keys checked: name, secretName and mountPath (outside
/etc/mwcdc, the ConfigMap's read-only mount). Called with (list $index $entry).
*/}}
{{- define "mwcdc.secretMount" -}}
{{- $i := index . 0 -}}
{{- $m := index . 1 -}}
{{- $_ := required (printf "secretMounts[%d].name is required (the volume name, a DNS label)" $i) $m.name -}}
{{- $_ := required (printf "secretMounts[%d].secretName is required (the Secret to mount)" $i) $m.secretName -}}
{{- $path := required (printf "secretMounts[%d].mountPath is required (a directory outside /etc/mwcdc)" $i) $m.mountPath -}}
{{- if or (eq (clean $path) "/etc/mwcdc") (hasPrefix "/etc/mwcdc/" (clean $path)) -}}
{{- fail (printf "secretMounts[%d].mountPath %s is inside /etc/mwcdc, the ConfigMap's read-only mount: use a directory outside it, e.g. /etc/mwcdc-tls" $i $path) -}}
{{- end -}}
{{- end -}}
