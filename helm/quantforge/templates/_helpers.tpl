{{/* Chart name. */}}
{{- define "quantforge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name (release-chart, at most 63 chars). */}}
{{- define "quantforge.fullname" -}}
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

{{- define "quantforge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Common labels. */}}
{{- define "quantforge.labels" -}}
helm.sh/chart: {{ include "quantforge.chart" . }}
app.kubernetes.io/name: {{ include "quantforge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels; call with (dict "ctx" $ "component" "api"). */}}
{{- define "quantforge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "quantforge.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "quantforge.apiName" -}}
{{- printf "%s-api" (include "quantforge.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "quantforge.workerName" -}}
{{- printf "%s-worker" (include "quantforge.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "quantforge.gpuWorkerName" -}}
{{- printf "%s-gpu-worker" (include "quantforge.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "quantforge.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Name of the Secret holding the database password. */}}
{{- define "quantforge.dbSecretName" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecret }}
{{- else }}
{{- printf "%s-db" (include "quantforge.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "quantforge.dbSecretKey" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecretPasswordKey | default "password" }}
{{- else }}
{{- "password" }}
{{- end }}
{{- end }}

{{- define "quantforge.apiUrl" -}}
{{- printf "http://%s:%v" (include "quantforge.apiName" .) .Values.api.service.port }}
{{- end }}

{{/* Environment shared by api and worker pods. */}}
{{- define "quantforge.commonEnv" -}}
- name: QF_DATA_DIR
  value: /data
- name: QF_UPLOAD_MAX_BYTES
  value: {{ .Values.config.uploadMaxBytes | int64 | quote }}
- name: QF_UPLOAD_MAX_UNCOMPRESSED_BYTES
  value: {{ .Values.config.uploadMaxUncompressedBytes | int64 | quote }}
- name: QF_JOBS_LEASE_SECONDS
  value: {{ .Values.config.jobsLeaseSeconds | quote }}
- name: QF_JOBS_REAPER_INTERVAL_SECONDS
  value: {{ .Values.config.jobsReaperIntervalSeconds | quote }}
- name: JAVA_TOOL_OPTIONS
  value: {{ .Values.config.javaToolOptions | quote }}
- name: QF_OPEN_ACCESS
  value: {{ .Values.openAccess | default "loopback" | toString | quote }}
{{- if .Values.apiToken.existingSecret }}
- name: QF_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.apiToken.existingSecret }}
      key: {{ .Values.apiToken.key | default "token" }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}
