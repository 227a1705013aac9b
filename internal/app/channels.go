package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bot"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/channel/chatwoot"
	"github.com/batonhq/baton/internal/channel/twilio"
	"github.com/batonhq/baton/internal/channel/webhook"
	"github.com/batonhq/baton/internal/channel/whatsapp"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/postgres"
)

// channels builds the configured channel adapters. A channel whose required settings are unset
// is not mounted (its routes answer 404), and says so once.
func channels(cfg *config.Config, db *postgres.DB, clock baton.Clock, log *slog.Logger) channel.Registry {
	client := &http.Client{Timeout: cfg.DeliveryTimeout}
	reg := channel.Registry{"webhook": &webhook.Adapter{
		Secrets:     []string{cfg.WebhookSecret, cfg.WebhookSecretPrev},
		OutboundURL: cfg.OutboundURL,
		Client:      client,
		Clock:       clock,
	}}
	tw := twilio.Config{AccountSID: cfg.TwilioAccountSID, AuthTokens: []string{cfg.TwilioAuthToken, cfg.TwilioAuthTokenPrev},
		From: cfg.TwilioFrom, MessagingServiceSID: cfg.TwilioMessagingServiceSID, APIURL: cfg.TwilioAPIURL,
		PublicURL: cfg.PublicURL, ContentSID: cfg.TwilioContentSID, HelpText: cfg.SMSHelpText}
	if tw.Configured() {
		reg["twilio"] = &twilio.Adapter{Config: tw, Client: client}
	} else {
		log.Info("channel not mounted: settings unset", "channel", "twilio",
			"needs", "BATON_TWILIO_ACCOUNT_SID, BATON_TWILIO_AUTH_TOKEN, BATON_TWILIO_FROM or BATON_TWILIO_MESSAGING_SERVICE_SID")
	}
	wa := whatsapp.Config{AppSecrets: []string{cfg.WhatsAppAppSecret, cfg.WhatsAppAppSecretPrev}, VerifyToken: cfg.WhatsAppVerifyToken,
		Token: cfg.WhatsAppToken, PhoneNumberID: cfg.WhatsAppPhoneNumberID, APIURL: cfg.WhatsAppAPIURL, Template: cfg.WhatsAppTemplate}
	if wa.Configured() {
		reg["whatsapp"] = &whatsapp.Adapter{Config: wa, Client: client, Store: db, Clock: clock}
	} else {
		log.Info("channel not mounted: settings unset", "channel", "whatsapp",
			"needs", "BATON_WHATSAPP_APP_SECRET, BATON_WHATSAPP_VERIFY_TOKEN, BATON_WHATSAPP_TOKEN, BATON_WHATSAPP_PHONE_NUMBER_ID")
	}
	cw := chatwoot.Config{URL: cfg.ChatwootURL, BotToken: cfg.ChatwootBotToken, Secrets: []string{cfg.ChatwootSecret, cfg.ChatwootSecretPrev},
		Verify: cfg.ChatwootVerify == "required", HandoffTarget: cfg.ChatwootHandoffTarget, Labels: cfg.ChatwootHandoffLabels, TeamID: cfg.ChatwootTeamID}
	if cw.Configured() {
		reg["chatwoot"] = &chatwoot.Adapter{Config: cw, Client: client, Clock: clock}
	} else {
		log.Info("channel not mounted: settings unset", "channel", "chatwoot",
			"needs", "BATON_CHATWOOT_URL, BATON_CHATWOOT_BOT_TOKEN, BATON_CHATWOOT_SECRET (or BATON_CHATWOOT_VERIFY=off)")
	}
	return reg
}

// blockSenders makes the blocked list BATON_BLOCKED_SENDERS (honoured before any turn).
func blockSenders(ctx context.Context, cfg *config.Config, db *postgres.DB) error {
	if err := db.SetBlocked(ctx, cfg.BlockedSenders); err != nil {
		return fmt.Errorf("BATON_BLOCKED_SENDERS: %w", err)
	}
	return nil
}

// channelBot wraps the decider for channels that take part in a turn (Chatwoot's typing
// indicator and handoff).
func (a *App) channelBot(d bot.Decider) bot.Decider {
	if cw, ok := a.Channels["chatwoot"].(*chatwoot.Adapter); ok {
		return &chatwoot.Bot{Next: d, Chatwoot: cw, Log: a.Log}
	}
	return d
}
