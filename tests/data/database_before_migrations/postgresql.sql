-- The agents database as kb made it before migrations (Base.metadata.create_all, postgresql).

CREATE TABLE agents (
	id SERIAL NOT NULL,
	name VARCHAR(64) NOT NULL,
	password_hash VARCHAR(256),
	token_hash VARCHAR(64) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	last_seen_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id),
	UNIQUE (name),
	UNIQUE (token_hash)
);
CREATE TABLE link_events (
	id SERIAL NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	agent_id INTEGER,
	action VARCHAR(32) NOT NULL,
	slug VARCHAR(200) NOT NULL,
	section VARCHAR(200) NOT NULL,
	query VARCHAR(2000) NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE SET NULL
);
CREATE INDEX ix_link_events_created_at ON link_events (created_at);
CREATE INDEX ix_link_events_slug ON link_events (slug);
