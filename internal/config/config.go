// Package config reads Baton's configuration from environment variables, overridden by flags,
// and validates it once at start so that a bad value fails at boot, naming the variable.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/batonhq/baton/internal/ratelimit"
)

// Config is every setting Baton reads. Field tags name the environment variable.
type Config struct {
	DatabaseURL       string
	RedisURL          string
	HTTPAddr          string
	PublicURL         string
	WebhookSecret     string
	WebhookSecretPrev string
	OutboundURL       string
	BurstWindow       time.Duration
	IdleResolve       time.Duration
	QueuedAckInterval time.Duration
	LeaseTTL          time.Duration
	TurnLease         string
	Concurrency       int
	TurnMaxAttempts   int
	QueuePrefix       string
	SessionTTL        time.Duration
	LogLevel          string
	LLMBaseURL        string
	LLMAPIKey         string
	ChatModel         string
	EmbeddingModel    string
	EmbeddingDim      int
	LLMTimeout        time.Duration
	ShutdownGrace     time.Duration
	FetchAllowHosts   []string
	MetricsToken      string
	MetricsAddr       string
	DefaultTeam       string
	DeliveryTimeout   time.Duration
	DeliveryInFlight  int
	DeliveryRetryFor  time.Duration
	DeliverySweep     time.Duration
	DeliveryOrderWait time.Duration

	// AnswerMinConfidence is the knowledge base's answer threshold (see knowledge.DefaultMinConfidence).
	AnswerMinConfidence float64
	// HandoffSLA is how much of the team's open time a handoff is due within.
	HandoffSLA time.Duration
	// AgentInactiveAfter frees an agent's slot in a conversation waiting this long on the customer.
	AgentInactiveAfter time.Duration
	// NotifyURL receives signed notifications of new handoffs and SLA breaches ("" = none).
	NotifyURL    string
	NotifySecret string

	// The LLM path: token budgets, masking, brand voice.
	LLMTokensPerConversation int
	LLMTokensPerDay          int
	LLMMaskPII               string // on | off
	BotName                  string
	CompanyName              string
	BotTone                  string

	// Channels (each mounted only when its required settings are set).
	TwilioAccountSID          string
	TwilioAuthToken           string
	TwilioAuthTokenPrev       string
	TwilioFrom                string
	TwilioMessagingServiceSID string
	TwilioAPIURL              string
	TwilioContentSID          string
	SMSHelpText               string
	WhatsAppAppSecret         string
	WhatsAppAppSecretPrev     string
	WhatsAppVerifyToken       string
	WhatsAppToken             string
	WhatsAppPhoneNumberID     string
	WhatsAppAPIURL            string
	WhatsAppTemplate          string
	ChatwootURL               string
	ChatwootBotToken          string
	ChatwootSecret            string
	ChatwootSecretPrev        string
	ChatwootVerify            string // off | required
	ChatwootHandoffTarget     string // chatwoot | baton
	ChatwootHandoffLabels     []string
	ChatwootTeamID            int
	BlockedSenders            []string // channel:external_id
	// The web chat widget.
	ChatTokenSecret    string
	ChatIdentitySecret string
	ChatOrigins        []string
	ChatTokenTTL       time.Duration
	// Abuse controls: request rates ("60/min", "0" = off), the client IP header, loop detection.
	RatePerSender  string
	RatePerIP      string
	RateSignIn     string
	ClientIPHeader string

	LoopMessages     int
	LoopWindow       time.Duration
	LoopRepeats      int
	LoopRepeatWindow time.Duration

	// Retention per data kind (0 = keep for ever), enforced once per RetentionPeriod.
	RetainMessages  time.Duration
	RetainTraces    time.Duration
	RetainOutbox    time.Duration
	RetainAudit     time.Duration
	RetainSessions  time.Duration
	RetentionPeriod time.Duration
}

// LLMConfigured reports whether an LLM endpoint is configured; otherwise the offline engine runs.
func (c *Config) LLMConfigured() bool { return c.LLMBaseURL != "" || c.LLMAPIKey != "" }

// field describes one Config field for env, flags and help.
type field struct {
	env, flag, help, def, secret string
	ptr                          any
}

func (c *Config) fields() []field {
	return []field{
		{"BATON_DATABASE_URL", "database-url", "PostgreSQL connection URL", "postgres://postgres@127.0.0.1:5432/baton?sslmode=disable", "password", &c.DatabaseURL},
		{"BATON_REDIS_URL", "redis-url", "Redis URL as asynq.ParseRedisURI accepts (redis://, rediss://, redis-socket://, redis-sentinel://)", "redis://127.0.0.1:6379/0", "password", &c.RedisURL},
		{"BATON_HTTP_ADDR", "http-addr", "HTTP listen address", "127.0.0.1:8080", "", &c.HTTPAddr},
		{"BATON_PUBLIC_URL", "public-url", "externally visible base URL (links, signatures, Secure cookies when https)", "http://127.0.0.1:8080", "", &c.PublicURL},
		{"BATON_WEBHOOK_SECRET", "webhook-secret", "HMAC-SHA256 secret of inbound webhooks and outbound deliveries", "", "all", &c.WebhookSecret},
		{"BATON_WEBHOOK_SECRET_PREVIOUS", "webhook-secret-previous", "previous webhook secret, still accepted during rotation", "", "all", &c.WebhookSecretPrev},
		{"BATON_OUTBOUND_URL", "outbound-url", "URL replies are POSTed to (generic webhook channel); empty keeps them pending", "", "", &c.OutboundURL},
		{"BATON_BURST_WINDOW", "burst-window", "messages of one conversation within this window get one answer (0 allowed)", "2s", "", &c.BurstWindow},
		{"BATON_IDLE_RESOLVE", "idle-resolve", "an episode resolves itself this long after a bot answer", "24h", "", &c.IdleResolve},
		{"BATON_HANDOFF_SLA", "handoff-sla", "a handoff is due within this much of its team's open time (business hours count, nights and holidays don't)", "4h", "", &c.HandoffSLA},
		{"BATON_NOTIFY_URL", "notify-url", "URL that receives a signed POST on every new handoff and SLA breach (unset = no notifications)", "", "password", &c.NotifyURL},
		{"BATON_NOTIFY_SECRET", "notify-secret", "HMAC-SHA256 secret of the notification webhook's X-Baton-Signature header (required with BATON_NOTIFY_URL)", "", "all", &c.NotifySecret},
		{"BATON_AGENT_INACTIVE_AFTER", "agent-inactive-after", "an agent's conversation waiting this long on the customer (the agent spoke last) frees the agent's slot until the customer writes", "15m", "", &c.AgentInactiveAfter},
		{"BATON_ANSWER_MIN_CONFIDENCE", "answer-min-confidence", "the bot answers from the knowledge base at or above this confidence (0..1); below it, it asks what was meant or offers a person", "0.5", "", &c.AnswerMinConfidence},
		{"BATON_QUEUED_ACK_INTERVAL", "queued-ack-interval", "while a handed-off conversation waits for a person, the bot tells the customer it has their message at most this often", "4h", "", &c.QueuedAckInterval},
		{"BATON_LEASE_TTL", "lease-ttl", "turn lease lifetime without a heartbeat", "10s", "", &c.LeaseTTL},
		{"BATON_TURN_LEASE", "turn-lease", "when a turn claims the conversation's lease before deciding: llm (only with an LLM; the offline engine's fast turns commit optimistically) or always", "llm", "", &c.TurnLease},
		{"BATON_CONCURRENCY", "concurrency", "task workers per process (a turn waiting out the burst window holds one, not a DB connection)", "64", "", &c.Concurrency},
		{"BATON_TURN_MAX_ATTEMPTS", "turn-max-attempts", "failed attempts at a turn before its conversation is handed to people (reason error) and no longer retried", "3", "", &c.TurnMaxAttempts},
		{"BATON_QUEUE_PREFIX", "queue-prefix", "prefix of asynq queue names (isolates deployments sharing a Redis)", "baton", "", &c.QueuePrefix},
		{"BATON_SESSION_TTL", "session-ttl", "browser session lifetime", "12h", "", &c.SessionTTL},
		{"BATON_LOG_LEVEL", "log-level", "debug, info, warn or error", "info", "", &c.LogLevel},
		{"BATON_LLM_BASE_URL", "llm-base-url", "OpenAI-compatible base URL (OpenAI, Azure, Ollama, vLLM, llama.cpp); unset with no key = offline engine", "", "", &c.LLMBaseURL},
		{"BATON_LLM_API_KEY", "llm-api-key", "API key of the LLM endpoint", "", "all", &c.LLMAPIKey},
		{"BATON_CHAT_MODEL", "chat-model", "chat model name", "gpt-4o-mini", "", &c.ChatModel},
		{"BATON_EMBEDDING_MODEL", "embedding-model", "embedding model name (used with an LLM endpoint)", "text-embedding-3-small", "", &c.EmbeddingModel},
		{"BATON_EMBEDDING_DIM", "embedding-dim", "embedding dimension, 1..2000 (pgvector HNSW limit)", "384", "", &c.EmbeddingDim},
		{"BATON_LLM_TIMEOUT", "llm-timeout", "deadline of one LLM call", "20s", "", &c.LLMTimeout},
		{"BATON_LLM_TOKENS_PER_CONVERSATION", "llm-tokens-per-conversation", "tokens one conversation may spend on the LLM; beyond it the local engine answers (0 = no cap)", "30000", "", &c.LLMTokensPerConversation},
		{"BATON_LLM_TOKENS_PER_DAY", "llm-tokens-per-day", "tokens all conversations may spend on the LLM per UTC day; beyond it the local engine answers (0 = no cap)", "2000000", "", &c.LLMTokensPerDay},
		{"BATON_LLM_MASK_PII", "llm-mask-pii", "on: emails, phone numbers, card numbers and gathered details reach the LLM as placeholders, restored in its reply; off: as typed", "on", "", &c.LLMMaskPII},
		{"BATON_BOT_NAME", "bot-name", "the assistant's name, in the LLM's brand voice", "", "", &c.BotName},
		{"BATON_COMPANY_NAME", "company-name", "the company the assistant speaks for, in the LLM's brand voice", "", "", &c.CompanyName},
		{"BATON_BOT_TONE", "bot-tone", "the LLM's tone of voice, e.g. warm and concise", "friendly and concise", "", &c.BotTone},
		{"BATON_SHUTDOWN_GRACE", "shutdown-grace", "how long SIGTERM waits for in-flight work", "15s", "", &c.ShutdownGrace},
		{"BATON_FETCH_ALLOW_HOSTS", "fetch-allow-hosts", "comma-separated host or host:port list that knowledge URL imports may fetch although it resolves to an internal address (loopback, private, link-local, cloud metadata), e.g. wiki.internal,10.0.0.5:8080; every other internal address is refused", "", "", &c.FetchAllowHosts},
		{"BATON_METRICS_TOKEN", "metrics-token", "bearer token GET /metrics requires; unset = /metrics answers anyone who reaches it", "", "all", &c.MetricsToken},
		{"BATON_METRICS_ADDR", "metrics-addr", "serve /metrics on this host:port (e.g. a private interface) instead of BATON_HTTP_ADDR", "", "", &c.MetricsAddr},
		{"BATON_DEFAULT_TEAM", "default-team", "the team handoffs go to when their intent names none; it sees conversations without a team (baton migrate creates it)", "support", "", &c.DefaultTeam},
		{"BATON_DELIVERY_SEND_TIMEOUT", "delivery-send-timeout", "deadline of one reply delivery; a reply is leased to one send for twice this", "15s", "", &c.DeliveryTimeout},
		{"BATON_DELIVERY_IN_FLIGHT", "delivery-in-flight", "reply deliveries in flight at once per process (a slow receiver holds these, never the turn workers)", "64", "", &c.DeliveryInFlight},
		{"BATON_DELIVERY_RETRY_FOR", "delivery-retry-for", "how long a reply that cannot be delivered is retried (backoff from 1s to 10m) before it is marked failed", "24h", "", &c.DeliveryRetryFor},
		{"BATON_DELIVERY_SWEEP", "delivery-sweep", "how often replies due in PostgreSQL are queued again if their task was lost (Redis restarted, worker killed); at most 30s", "5s", "", &c.DeliverySweep},
		{"BATON_DELIVERY_ORDER_WAIT", "delivery-order-wait", "a reply waits at most this long for an earlier undelivered reply of its conversation", "1m", "", &c.DeliveryOrderWait},
		{"BATON_TWILIO_ACCOUNT_SID", "twilio-account-sid", "Twilio account SID; with the auth token and a sender, mounts the twilio channel (SMS, WhatsApp via Twilio)", "", "", &c.TwilioAccountSID},
		{"BATON_TWILIO_AUTH_TOKEN", "twilio-auth-token", "Twilio auth token: verifies X-Twilio-Signature and authenticates API calls", "", "all", &c.TwilioAuthToken},
		{"BATON_TWILIO_AUTH_TOKEN_PREVIOUS", "twilio-auth-token-previous", "previous Twilio auth token, still accepted on inbound requests during rotation", "", "all", &c.TwilioAuthTokenPrev},
		{"BATON_TWILIO_FROM", "twilio-from", "Twilio sender of replies, e.g. +15005550006 or whatsapp:+14155238886", "", "", &c.TwilioFrom},
		{"BATON_TWILIO_MESSAGING_SERVICE_SID", "twilio-messaging-service-sid", "Twilio messaging service that sends replies (instead of BATON_TWILIO_FROM)", "", "", &c.TwilioMessagingServiceSID},
		{"BATON_TWILIO_API_URL", "twilio-api-url", "Twilio API host (Baton appends /2010-04-01/...)", "https://api.twilio.com", "", &c.TwilioAPIURL},
		{"BATON_TWILIO_CONTENT_SID", "twilio-content-sid", "approved WhatsApp template (Content SID) sent through Twilio outside the 24-hour window", "", "", &c.TwilioContentSID},
		{"BATON_SMS_HELP_TEXT", "sms-help-text", "the answer to HELP on SMS", "Reply STOP to stop messages, START to resume. Write your question any time.", "", &c.SMSHelpText},
		{"BATON_WHATSAPP_APP_SECRET", "whatsapp-app-secret", "Meta app secret: verifies X-Hub-Signature-256 (WhatsApp Cloud API channel)", "", "all", &c.WhatsAppAppSecret},
		{"BATON_WHATSAPP_APP_SECRET_PREVIOUS", "whatsapp-app-secret-previous", "previous Meta app secret, still accepted during rotation", "", "all", &c.WhatsAppAppSecretPrev},
		{"BATON_WHATSAPP_VERIFY_TOKEN", "whatsapp-verify-token", "the verify token typed into Meta's webhook setup (GET verification)", "", "all", &c.WhatsAppVerifyToken},
		{"BATON_WHATSAPP_TOKEN", "whatsapp-token", "WhatsApp Cloud API access token (bearer) for replies", "", "all", &c.WhatsAppToken},
		{"BATON_WHATSAPP_PHONE_NUMBER_ID", "whatsapp-phone-number-id", "WhatsApp business phone number id replies are sent from", "", "", &c.WhatsAppPhoneNumberID},
		{"BATON_WHATSAPP_API_URL", "whatsapp-api-url", "Graph API base URL with its version (Baton appends /{phone_number_id}/messages)", "https://graph.facebook.com/v21.0", "", &c.WhatsAppAPIURL},
		{"BATON_WHATSAPP_TEMPLATE", "whatsapp-template", "approved template name[:language] sent outside the 24-hour window; unset: such a reply fails and is listed for people", "", "", &c.WhatsAppTemplate},
		{"BATON_CHATWOOT_URL", "chatwoot-url", "Chatwoot base URL; with the bot token, mounts the chatwoot channel (Baton as an Agent Bot)", "", "", &c.ChatwootURL},
		{"BATON_CHATWOOT_BOT_TOKEN", "chatwoot-bot-token", "the Agent Bot's access token (api_access_token)", "", "all", &c.ChatwootBotToken},
		{"BATON_CHATWOOT_SECRET", "chatwoot-secret", "the Agent Bot's webhook secret (X-Chatwoot-Signature, Chatwoot 4.13+)", "", "all", &c.ChatwootSecret},
		{"BATON_CHATWOOT_SECRET_PREVIOUS", "chatwoot-secret-previous", "previous Chatwoot webhook secret, still accepted during rotation", "", "all", &c.ChatwootSecretPrev},
		{"BATON_CHATWOOT_VERIFY", "chatwoot-verify", "required: refuse unsigned or stale Chatwoot events; off: accept them (Chatwoot before 4.13 does not sign)", "required", "", &c.ChatwootVerify},
		{"BATON_CHATWOOT_HANDOFF_TARGET", "chatwoot-handoff-target", "where a Chatwoot conversation goes on handoff: chatwoot (its inbox: note, labels, priority, team, open) or baton (Baton's own queue)", "chatwoot", "", &c.ChatwootHandoffTarget},
		{"BATON_CHATWOOT_HANDOFF_LABELS", "chatwoot-handoff-labels", "comma-separated labels added to a Chatwoot conversation on handoff", "baton-handoff", "", &c.ChatwootHandoffLabels},
		{"BATON_CHATWOOT_TEAM_ID", "chatwoot-team-id", "Chatwoot team a handoff is assigned to (0 = none)", "0", "", &c.ChatwootTeamID},
		{"BATON_BLOCKED_SENDERS", "blocked-senders", "comma-separated channel:id list of senders whose messages are stored and never answered or messaged, e.g. twilio:+15550100,whatsapp:4915112345678", "", "", &c.BlockedSenders},
		{"BATON_CHAT_TOKEN_SECRET", "chat-token-secret", "HMAC secret that signs the chat widget's conversation tokens (same on every serve process); unset = derived from BATON_WEBHOOK_SECRET", "", "all", &c.ChatTokenSecret},
		{"BATON_CHAT_IDENTITY_SECRET", "chat-identity-secret", "HMAC-SHA256 secret a host website signs a signed-in customer's identity with, so the widget recognises them across devices; unset = identities refused", "", "all", &c.ChatIdentitySecret},
		{"BATON_CHAT_ORIGINS", "chat-origins", "comma-separated origins (https://shop.example) whose pages may embed the chat widget and call the chat API (CORS); the /chat page itself needs none", "", "", &c.ChatOrigins},
		{"BATON_CHAT_TOKEN_TTL", "chat-token-ttl", "lifetime of a chat widget token (a returning customer resumes their conversation within it)", "720h", "", &c.ChatTokenTTL},
		{"BATON_RATE_PER_SENDER", "rate-per-sender", "messages one sender of a signed webhook may post per channel (N/s, N/min, N/h; 0 = no limit); beyond it 429 with Retry-After", "60/min", "", &c.RatePerSender},
		{"BATON_RATE_PER_IP", "rate-per-ip", "requests one client IP may make to the unauthenticated browser endpoints (the web chat); 0 = no limit", "120/min", "", &c.RatePerIP},
		{"BATON_RATE_SIGN_IN", "rate-sign-in", "sign-in attempts (POST /v1/auth/session) per client IP; 0 = no limit", "10/min", "", &c.RateSignIn},
		{"BATON_LOOP_MESSAGES", "loop-messages", "a conversation with this many customer messages within BATON_LOOP_WINDOW looks like another bot: the bot stops answering it (muted, flagged for admins); 0 = off", "20", "", &c.LoopMessages},
		{"BATON_LOOP_WINDOW", "loop-window", "the window of BATON_LOOP_MESSAGES", "60s", "", &c.LoopWindow},
		{"BATON_LOOP_REPEATS", "loop-repeats", "a conversation whose customer sends the same text this many times within BATON_LOOP_REPEAT_WINDOW looks like another bot too; 0 = off", "5", "", &c.LoopRepeats},
		{"BATON_LOOP_REPEAT_WINDOW", "loop-repeat-window", "the window of BATON_LOOP_REPEATS", "10m", "", &c.LoopRepeatWindow},
		{"BATON_RETAIN_MESSAGES", "retain-messages", "delete messages this long after they arrived (undelivered and unanswered ones stay); 0 = keep", "0", "", &c.RetainMessages},
		{"BATON_RETAIN_TRACES", "retain-traces", "delete turn traces this long after the turn; 0 = keep", "2160h", "", &c.RetainTraces},
		{"BATON_RETAIN_OUTBOX", "retain-outbox", "delete outbox rows this long after they were queued; 0 = keep", "168h", "", &c.RetainOutbox},
		{"BATON_RETAIN_AUDIT", "retain-audit", "delete audit log entries this long after they were written; 0 = keep", "0", "", &c.RetainAudit},
		{"BATON_RETAIN_SESSIONS", "retain-sessions", "delete browser sessions this long after they expired; 0 = keep", "24h", "", &c.RetainSessions},
		{"BATON_RETENTION_PERIOD", "retention-period", "how often the retention job runs (once per period across all workers)", "1h", "", &c.RetentionPeriod},
		{"BATON_CLIENT_IP_HEADER", "client-ip-header", "header a trusted reverse proxy sets to the client's address (e.g. X-Forwarded-For, its last entry counts); unset = the connection's address. Set it only behind such a proxy: clients can send it too", "", "", &c.ClientIPHeader},
	}
}

// Load builds a Config from defaults, then the environment (getenv), then flags parsed from args
// into fs. It returns the remaining arguments. Validation errors name the variable.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (*Config, []string, error) {
	c := &Config{}
	fields := c.fields()
	raw := map[string]string{}
	for _, f := range fields {
		raw[f.env] = f.def
		if v := getenv(f.env); v != "" {
			raw[f.env] = v
		}
	}
	flagVals := map[string]*string{}
	for _, f := range fields {
		def := f.def
		if def == "" {
			def = "unset"
		}
		flagVals[f.env] = fs.String(f.flag, "", fmt.Sprintf("%s (%s; default %s)", f.help, f.env, def))
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	fs.Visit(func(fl *flag.Flag) {
		for _, f := range fields {
			if f.flag == fl.Name {
				raw[f.env] = *flagVals[f.env]
			}
		}
	})
	var errs []error
	for _, f := range fields {
		v := strings.TrimSpace(raw[f.env])
		switch p := f.ptr.(type) {
		case *string:
			*p = v
		case *int:
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not an integer", f.env, v))
			}
			*p = n
		case *float64:
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a number", f.env, v))
			}
			*p = x
		case *time.Duration:
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration (e.g. 2s, 500ms, 24h)", f.env, v))
			}
			*p = d
		case *[]string:
			*p = nil
			for item := range strings.SplitSeq(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					*p = append(*p, item)
				}
			}
		}
	}
	if len(errs) == 0 {
		errs = append(errs, c.Validate())
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return c, fs.Args(), nil
}

// Validate checks every value and names the variable of each bad one.
func (c *Config) Validate() error {
	var errs []error
	bad := func(env, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{env}, args...)...))
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		bad("BATON_DATABASE_URL", "want a postgres:// URL")
	}
	if _, err := asynq.ParseRedisURI(c.RedisURL); err != nil {
		bad("BATON_REDIS_URL", "%v", err)
	}
	if c.HTTPAddr == "" || !strings.Contains(c.HTTPAddr, ":") {
		bad("BATON_HTTP_ADDR", "want host:port, got %q", c.HTTPAddr)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("BATON_PUBLIC_URL", "want an absolute http(s) URL, got %q", c.PublicURL)
	}
	if c.OutboundURL != "" {
		if u, err := url.Parse(c.OutboundURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("BATON_OUTBOUND_URL", "want an absolute http(s) URL")
		}
	}
	if c.LLMBaseURL != "" {
		if u, err := url.Parse(c.LLMBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("BATON_LLM_BASE_URL", "want an absolute http(s) URL")
		}
	}
	for env, v := range map[string]string{"BATON_TWILIO_API_URL": c.TwilioAPIURL, "BATON_WHATSAPP_API_URL": c.WhatsAppAPIURL, "BATON_CHATWOOT_URL": c.ChatwootURL} {
		if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			bad(env, "want an absolute http(s) URL")
		}
	}
	for _, b := range c.BlockedSenders {
		if ch, id, ok := strings.Cut(b, ":"); !ok || ch == "" || id == "" {
			bad("BATON_BLOCKED_SENDERS", "want channel:id, got %q", b)
		}
	}
	if c.ChatwootVerify != "off" && c.ChatwootVerify != "required" {
		bad("BATON_CHATWOOT_VERIFY", "must be off or required")
	}
	if c.ChatwootURL != "" && c.ChatwootVerify == "required" && c.ChatwootSecret == "" {
		bad("BATON_CHATWOOT_SECRET", "required while BATON_CHATWOOT_VERIFY=required (set BATON_CHATWOOT_VERIFY=off for Chatwoot before 4.13)")
	}
	if c.ChatwootHandoffTarget != "chatwoot" && c.ChatwootHandoffTarget != "baton" {
		bad("BATON_CHATWOOT_HANDOFF_TARGET", "must be chatwoot or baton")
	}
	if c.BurstWindow < 0 || c.BurstWindow > time.Minute {
		bad("BATON_BURST_WINDOW", "must be between 0 and 1m, got %s", c.BurstWindow)
	}
	if c.AnswerMinConfidence <= 0 || c.AnswerMinConfidence > 1 {
		bad("BATON_ANSWER_MIN_CONFIDENCE", "must be above 0 and at most 1, got %g", c.AnswerMinConfidence)
	}
	if c.HandoffSLA <= 0 {
		bad("BATON_HANDOFF_SLA", "must be positive")
	}
	if c.AgentInactiveAfter <= 0 {
		bad("BATON_AGENT_INACTIVE_AFTER", "must be positive")
	}
	if c.NotifyURL != "" {
		if u, err := url.Parse(c.NotifyURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("BATON_NOTIFY_URL", "want an absolute http(s) URL")
		}
		if c.NotifySecret == "" {
			bad("BATON_NOTIFY_SECRET", "is required with BATON_NOTIFY_URL")
		}
	}
	if c.QueuedAckInterval <= 0 {
		bad("BATON_QUEUED_ACK_INTERVAL", "must be positive")
	}
	if c.IdleResolve <= 0 {
		bad("BATON_IDLE_RESOLVE", "must be positive")
	}
	if c.LeaseTTL < time.Second {
		bad("BATON_LEASE_TTL", "must be at least 1s")
	}
	if c.TurnLease != "llm" && c.TurnLease != "always" {
		bad("BATON_TURN_LEASE", "must be llm or always")
	}
	if c.DeliveryTimeout < time.Second || c.DeliveryTimeout > 5*time.Minute {
		bad("BATON_DELIVERY_SEND_TIMEOUT", "must be between 1s and 5m, got %s", c.DeliveryTimeout)
	}
	if c.DeliveryInFlight < 1 || c.DeliveryInFlight > 10000 {
		bad("BATON_DELIVERY_IN_FLIGHT", "must be 1..10000")
	}
	if c.DeliveryRetryFor < time.Second || c.DeliveryRetryFor > 30*24*time.Hour {
		bad("BATON_DELIVERY_RETRY_FOR", "must be between 1s and 720h, got %s", c.DeliveryRetryFor)
	}
	if c.DeliverySweep < 10*time.Millisecond || c.DeliverySweep > 30*time.Second {
		bad("BATON_DELIVERY_SWEEP", "must be between 10ms and 30s, got %s", c.DeliverySweep)
	}
	if c.DeliveryOrderWait < 0 || c.DeliveryOrderWait > time.Hour {
		bad("BATON_DELIVERY_ORDER_WAIT", "must be between 0 and 1h, got %s", c.DeliveryOrderWait)
	}
	if c.Concurrency < 1 || c.Concurrency > 1000 {
		bad("BATON_CONCURRENCY", "must be 1..1000")
	}
	if c.TurnMaxAttempts < 1 || c.TurnMaxAttempts > 100 {
		bad("BATON_TURN_MAX_ATTEMPTS", "must be 1..100")
	}
	if c.QueuePrefix == "" || strings.ContainsAny(c.QueuePrefix, " :") {
		bad("BATON_QUEUE_PREFIX", "must be non-empty, without spaces or colons")
	}
	if c.ChatTokenTTL < time.Minute {
		bad("BATON_CHAT_TOKEN_TTL", "must be at least 1m")
	}
	for _, o := range c.ChatOrigins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			bad("BATON_CHAT_ORIGINS", "want origins like https://shop.example (scheme and host, no path), got %q", o)
		}
	}
	if c.SessionTTL < time.Minute {
		bad("BATON_SESSION_TTL", "must be at least 1m")
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		bad("BATON_LOG_LEVEL", "%v", err)
	}
	if c.EmbeddingDim < 1 || c.EmbeddingDim > 2000 {
		bad("BATON_EMBEDDING_DIM", "must be 1..2000 (pgvector HNSW indexes at most 2000 dimensions), got %d", c.EmbeddingDim)
	}
	if c.LLMTimeout <= 0 {
		bad("BATON_LLM_TIMEOUT", "must be positive")
	}
	if c.LLMTokensPerConversation < 0 {
		bad("BATON_LLM_TOKENS_PER_CONVERSATION", "must be 0 (no cap) or positive")
	}
	if c.LLMTokensPerDay < 0 {
		bad("BATON_LLM_TOKENS_PER_DAY", "must be 0 (no cap) or positive")
	}
	if c.LLMMaskPII != "on" && c.LLMMaskPII != "off" {
		bad("BATON_LLM_MASK_PII", "must be on or off")
	}
	if c.ShutdownGrace <= 0 {
		bad("BATON_SHUTDOWN_GRACE", "must be positive")
	}
	for _, h := range c.FetchAllowHosts {
		if err := checkHostPort(h); err != nil {
			bad("BATON_FETCH_ALLOW_HOSTS", "%q: %v", h, err)
		}
	}
	if n := len(strings.TrimSpace(c.DefaultTeam)); n == 0 || n > 100 {
		bad("BATON_DEFAULT_TEAM", "must be 1..100 characters")
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("BATON_METRICS_ADDR", "want host:port, got %q", c.MetricsAddr)
		} else if c.MetricsAddr == c.HTTPAddr {
			bad("BATON_METRICS_ADDR", "must differ from BATON_HTTP_ADDR (unset it to serve /metrics there)")
		}
	}
	if c.LoopMessages < 0 || c.LoopMessages > 100 {
		bad("BATON_LOOP_MESSAGES", "must be 0 (off) to 100")
	}
	if c.LoopRepeats < 0 || c.LoopRepeats > 100 {
		bad("BATON_LOOP_REPEATS", "must be 0 (off) to 100")
	}
	if c.LoopWindow <= 0 || c.LoopRepeatWindow <= 0 {
		bad("BATON_LOOP_WINDOW", "BATON_LOOP_WINDOW and BATON_LOOP_REPEAT_WINDOW must be positive")
	}
	for _, r := range []struct {
		env string
		d   time.Duration
	}{{"BATON_RETAIN_MESSAGES", c.RetainMessages}, {"BATON_RETAIN_TRACES", c.RetainTraces}, {"BATON_RETAIN_OUTBOX", c.RetainOutbox},
		{"BATON_RETAIN_AUDIT", c.RetainAudit}, {"BATON_RETAIN_SESSIONS", c.RetainSessions}} {
		if r.d < 0 || (r.d > 0 && r.d < time.Hour) {
			bad(r.env, "must be 0 (keep) or at least 1h, got %s", r.d)
		}
	}
	if c.RetentionPeriod < time.Second {
		bad("BATON_RETENTION_PERIOD", "must be at least 1s")
	}
	for _, r := range [][2]string{{"BATON_RATE_PER_SENDER", c.RatePerSender}, {"BATON_RATE_PER_IP", c.RatePerIP}, {"BATON_RATE_SIGN_IN", c.RateSignIn}} {
		if _, err := ratelimit.ParseRate(r[1]); err != nil {
			bad(r[0], "%v", err)
		}
	}
	return errors.Join(errs...)
}

// Rate parses one of the validated rate settings.
func Rate(v string) ratelimit.Rate {
	r, _ := ratelimit.ParseRate(v) // validated at load
	return r
}

// checkHostPort accepts "host" or "host:port" (IPv6 in brackets with a port), as URLs name them.
func checkHostPort(s string) error {
	if strings.ContainsAny(s, "/@ ") {
		return errors.New("want a host or host:port, not a URL")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		// No port: a name, an IPv4 address or a bracketed IPv6 one.
		host, port = strings.Trim(s, "[]"), ""
		if strings.Contains(host, ":") && net.ParseIP(host) == nil {
			return errors.New("want a host or host:port")
		}
	}
	if host == "" {
		return errors.New("the host is empty")
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not 1..65535", port)
		}
	}
	return nil
}

// ParseLevel maps a BATON_LOG_LEVEL value to a slog level.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("unknown level %q (want debug, info, warn or error)", s)
	}
	return l, nil
}

// LogValue makes slog print a redacted copy: secrets as "[redacted]", passwords in URLs masked.
func (c *Config) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, f := range c.fields() {
		var v string
		switch p := f.ptr.(type) {
		case *string:
			v = *p
		case *int:
			v = strconv.Itoa(*p)
		case *float64:
			v = strconv.FormatFloat(*p, 'g', -1, 64)
		case *time.Duration:
			v = p.String()
		case *[]string:
			v = strings.Join(*p, ",")
		}
		switch f.secret {
		case "all":
			if v != "" {
				v = "[redacted]"
			}
		case "password":
			v = redactURL(v)
		}
		attrs = append(attrs, slog.String(strings.ToLower(strings.TrimPrefix(f.env, "BATON_")), v))
	}
	return slog.GroupValue(attrs...)
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[unparseable]"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Usage writes the environment variables to w-friendly text for `baton --help`.
func Usage() string {
	var b strings.Builder
	c := &Config{}
	for _, f := range c.fields() {
		def := f.def
		if def == "" {
			def = "unset"
		}
		fmt.Fprintf(&b, "  %-30s %s (default %s)\n", f.env, f.help, def)
	}
	return b.String()
}

// Getenv is os.Getenv, named for injection in tests.
var Getenv = os.Getenv
