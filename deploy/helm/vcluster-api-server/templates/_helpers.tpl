{{/* The chart's name, or nameOverride. */}}
{{- define "vcluster-api-server.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's resource name: fullnameOverride, or <release>-<chart> unless the release already names the chart. */}}
{{- define "vcluster-api-server.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "vcluster-api-server.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vcluster-api-server.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "vcluster-api-server.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "vcluster-api-server.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "vcluster-api-server.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vcluster-api-server.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the tokens file: the user's, or the chart's own. Empty without auth. */}}
{{- define "vcluster-api-server.tokensSecret" -}}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecret }}
{{- else if not .Values.auth.allowUnauthenticated }}
{{- printf "%s-tokens" (include "vcluster-api-server.fullname" .) }}
{{- end }}
{{- end }}

{{/* The server's config file: the user's settings and what the chart decides. */}}
{{- define "vcluster-api-server.config" -}}
{{- $fixed := dict "host" "0.0.0.0" "port" (int .Values.service.port) "store" "sqlite:/data/vcluster.db" }}
{{- if include "vcluster-api-server.tokensSecret" . }}
{{- $_ := set $fixed "auth-tokens" "/etc/vcluster-api/tokens/tokens.yaml" }}
{{- else }}
{{- $_ := set $fixed "allow-remote-without-auth" true }}
{{- end }}
{{- $_ := set $fixed "console" "/app/console" }}
{{- toYaml (merge $fixed (omit .Values.config "host" "port" "store" "auth-tokens" "allow-remote-without-auth")) }}
{{- end }}
