{{/*
A remote worker Deployment: QF_ROLES=worker, QF_SERVER_URL = the api Service, no database, no HTTP server.
Rendered once per values block (worker, gpuWorker); call with
(dict "ctx" $ "w" .Values.worker "name" (include "quantforge.workerName" .) "component" "worker").
*/}}
{{- define "quantforge.workerDeployment" -}}
{{- $ctx := .ctx }}
{{- $w := .w }}
{{- $image := printf "%s:%s" ($w.image.repository | default $ctx.Values.image.repository) ($w.image.tag | default $ctx.Values.image.tag | default $ctx.Chart.AppVersion) }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  labels:
    {{- include "quantforge.labels" $ctx | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  replicas: {{ $w.replicas }}
  selector:
    matchLabels:
      {{- include "quantforge.selectorLabels" (dict "ctx" $ctx "component" .component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "quantforge.labels" $ctx | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
      {{- with $w.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      {{- with $ctx.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $ctx.Values.podSecurityContext | nindent 8 }}
      # Time for the worker's shutdown hook: the running job is handed back to the queue within stopWaitSeconds.
      terminationGracePeriodSeconds: {{ $w.terminationGracePeriodSeconds | default 30 }}
      {{- with $w.runtimeClassName }}
      runtimeClassName: {{ . }}
      {{- end }}
      {{- if $w.waitForApi }}
      initContainers:
        - name: wait-for-api
          image: {{ $image | quote }}
          imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
          securityContext:
            {{- toYaml $ctx.Values.securityContext | nindent 12 }}
          command:
            - sh
            - -c
            - until curl -fsS -o /dev/null "$QF_SERVER_URL/actuator/health/readiness"; do echo "waiting for $QF_SERVER_URL"; sleep 3; done
          env:
            - name: QF_SERVER_URL
              value: {{ include "quantforge.apiUrl" $ctx | quote }}
      {{- end }}
      containers:
        - name: worker
          image: {{ $image | quote }}
          imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
          securityContext:
            {{- toYaml $ctx.Values.securityContext | nindent 12 }}
          # Remote worker mode: no database and no HTTP server, hence no HTTP probes.
          env:
            - name: QF_ROLES
              value: worker
            - name: QF_SERVER_URL
              value: {{ include "quantforge.apiUrl" $ctx | quote }}
            - name: QF_WORKER_CONCURRENCY
              value: {{ $w.concurrency | quote }}
            - name: QF_WORKER_STOP_WAIT_SECONDS
              value: {{ $w.stopWaitSeconds | default 15 | quote }}
            - name: QF_WORKER_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            {{- include "quantforge.commonEnv" $ctx | nindent 12 }}
            {{- with $w.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- $res := $w.resources | default dict }}
          {{- $gpus := int $w.gpu.count }}
          {{- if or $res.requests $res.limits (gt $gpus 0) }}
          resources:
            {{- with $res.requests }}
            requests:
              {{- toYaml . | nindent 14 }}
            {{- end }}
            {{- if or $res.limits (gt $gpus 0) }}
            limits:
              {{- with $res.limits }}
              {{- toYaml . | nindent 14 }}
              {{- end }}
              {{- if gt $gpus 0 }}
              {{ $w.gpu.resourceName }}: {{ $gpus }}
              {{- end }}
            {{- end }}
          {{- end }}
          volumeMounts:
            - name: data
              mountPath: /data
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: data
          {{- with $w.cache.sizeLimit }}
          emptyDir:
            sizeLimit: {{ . }}
          {{- else }}
          emptyDir: {}
          {{- end }}
        - name: tmp
          emptyDir: {}
      {{- with $w.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $w.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $w.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
