-- Live events for the agent inbox and the chat widget: every write path publishes through
-- these triggers, so no caller has to remember to. NOTIFY carries ids only (small, well under
-- the 8000-byte limit); subscribers read the rest from the tables. Payloads are built by
-- concatenation (cheaper than json_build_object on the ingest path): keys are
-- k kind, c conversation, id message, s status, p priority, t team, o the team before (so
-- the old team's inboxes hear that it left), u assigned user.

CREATE FUNCTION baton_event_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('baton_events', '{"k":"message","c":' || NEW.conversation_id || ',"id":' || NEW.id || '}');
    RETURN NULL;
END $$;

CREATE TRIGGER messages_event AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION baton_event_message();

CREATE FUNCTION baton_event_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('baton_events', '{"k":"conversation","c":' || NEW.id || ',"s":"' || NEW.status
        || '","p":' || NEW.priority || ',"t":' || coalesce(NEW.team_id, 0) || ',"o":' || coalesce(OLD.team_id, 0)
        || ',"u":' || coalesce(NEW.assigned_user_id, 0) || '}');
    RETURN NULL;
END $$;

-- Only the columns an inbox shows: lease heartbeats and timestamps publish nothing.
CREATE TRIGGER conversations_event AFTER UPDATE ON conversations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.priority IS DISTINCT FROM NEW.priority
        OR OLD.team_id IS DISTINCT FROM NEW.team_id
        OR OLD.assigned_user_id IS DISTINCT FROM NEW.assigned_user_id)
    EXECUTE FUNCTION baton_event_conversation();
