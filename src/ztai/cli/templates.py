"""The configuration ``ztai init`` writes: commented, runnable as is with the demo simulator."""

CONFIG_TEMPLATE = """\
# ztai gateway configuration. Relative paths are relative to this file.
# Any field can be overridden from the environment: ZTAI_<SECTION>__<FIELD>,
# e.g. ZTAI_SERVER__PORT=9000 or ZTAI_AUDIT__RECORD_CONTENT=true.

server:
  host: 127.0.0.1          # bind address; put a TLS-terminating proxy in front for remote use
  port: 8080
  max_body_bytes: 1048576  # larger requests get 413
  stage_timeout_s: 2.0     # a check slower than this denies the request

storage:
  sqlite_path: ztai.db     # keys and the audit log (one file, WAL mode)

policy:
  dir: policies            # *.cedar files, validated at start, hot-reloaded on change
  reload_interval_s: 1.0

audit:
  signing_key: audit-signing.key   # Ed25519 key for signed checkpoints (keep it private)
  record_content: false            # true stores raw prompt text in the audit log
  fsync: true                      # false: survives a killed process, not a power loss
  checkpoint_every: 256
  checkpoint_interval_s: 5.0

identity:
  # OIDC identity providers whose JWT access tokens ztai accepts (API keys always work).
  issuers: []
  # - issuer: https://login.example.com/
  #   audiences: [ztai]
  #   jwks_url: https://login.example.com/.well-known/jwks.json   # or jwks_file: idp-jwks.json
  #   algorithms: [RS256, ES256]
  #   leeway_s: 60
  #   max_token_lifetime_s: 3600   # refuse tokens that live longer (exp - iat)
  #   claims: {subject: sub, groups: [groups, roles], amr: amr, acr: acr}
  tokens:                        # ztai's own short-lived tokens for AI agents
    issuer: urn:ztai
    signing_key: token-signing.key
    ttl_s: 300
    endpoint: http://127.0.0.1:8080/oauth2/token   # the aud of agents' client assertions
  mfa_acr_values: []             # acr values that count as multi-factor

network:
  trusted_proxies: []            # proxies allowed to set X-Forwarded-For, e.g. [10.0.0.5/32]
  ranges: {}                     # named networks for policies, e.g. {corp: [10.0.0.0/8]}

device:
  claim_header: x-ztai-device    # signed device-compliance claims (a JWS)
  issuer: ztai-device
  # jwks_file: device-jwks.json  # the device-management service's public keys
  trust_verified_client_certs: false

terms: []                        # terms of use, e.g. [{app: default, version: "2026-01", url: ...}]

protection:                      # what the classify stage looks for in every request
  enabled: true                  # what happens to findings: the @dlp rules in policies/
  responses: true                # scan answers too (rules see context.direction "response")
  secrets: true                  # the gitleaks rule set, private keys, JWTs, connection strings
  pii: true                      # e-mail, phone, cards, IBAN, national ids, IP addresses
  pii_names: false               # + person names, places, street addresses (ms per KB)
  encoded: true                  # + base64 and hex runs decoded (a key encoded to slip past)
  terms: {}                      # sensitive terms, e.g. {project-obsidian: ["Project Obsidian"]}
  fingerprints: []               # protected documents, e.g.
  #   [{id: plan, file: plan.txt, label: Confidential}]
  # labels and label_rules: see the README (defaults: Public < General < Confidential < ...)

upstreams:
  # The built-in simulator: deterministic fake answers, no network. For the demo and tests.
  - name: simulator
    kind: simulator
  # An OpenAI-compatible provider (OpenAI, vLLM, Ollama, ...). The key is read from the
  # environment (api_key_env) or a file (api_key_file) and is never logged.
  # - name: openai
  #   kind: openai
  #   base_url: https://api.openai.com/v1
  #   api_key_env: OPENAI_API_KEY
  #   timeout_s: 60
  # Azure OpenAI: one upstream per deployment.
  # - name: azure-gpt4o
  #   kind: azure
  #   base_url: https://YOUR-RESOURCE.openai.azure.com
  #   azure_deployment: gpt-4o
  #   azure_api_version: "2024-10-21"
  #   api_key_env: AZURE_OPENAI_API_KEY

models:
  # name: what clients ask for; upstream_model: what the provider calls it;
  # tier: internal | sanctioned | consumer (policies can decide on it).
  - {name: demo-chat, upstream: simulator, tier: internal}
  - {name: demo-consumer-chat, upstream: simulator, tier: consumer}
  - {name: demo-embed, upstream: simulator, tier: internal}
  # - {name: gpt-4o-mini, upstream: openai, upstream_model: gpt-4o-mini, tier: sanctioned}

# MCP gateway: each server is served at /mcp/<name>; tools, resources and prompts go through
# the same pipeline (policies: 30-agents.cedar). Tool definitions are pinned; a changed one is
# quarantined until `ztai mcp approve`.
# mcp:
#   internal_domains: [example.com]      # e-mail/web destinations inside the organisation
#   servers:
#     - name: mail
#       url: http://127.0.0.1:9000/mcp   # streamable HTTP; or command: + args: for stdio
#       tools: {send_email: {risk: high}}
#
# Agents: held tool calls wait this long for a person (`ztai approvals`); budgets per agent.
# agents:
#   approval_timeout_s: 120
#   budgets: {default: {calls_per_minute: 60, tokens_per_day: 200000}}
#
# Knowledge: indexes built with `ztai knowledge index PATH --index DIR`; /v1/retrieve and
# knowledge-backed chat models, trimmed by each document's permissions and labels.
# knowledge:
#   bases: [{name: corp, index: knowledge/corp}]
#   chat: [{model: demo-chat, base: corp, k: 4}]
#
# Risk-adaptive protection: a monitor inside `ztai serve` scores each principal's audit stream
# and sets context.risk_level (none | minor | moderate | elevated) for policies; alerts are
# reviewed pseudonymised (`ztai risk alerts`, /admin/alerts). The defaults:
# risk:
#   enabled: true
#   in_serve: true        # false: run `ztai risk run` as its own service instead
#   interval_s: 2
#   half_life_s: 21600
#   thresholds: {minor: 10, moderate: 30, elevated: 60}
#   sinks:                # besides the admin API; none by default
#     webhook: {url_env: ZTAI_RISK_WEBHOOK_URL, format: ocsf}
#     syslog: {host: siem.example.internal, port: 514, protocol: udp}
"""
