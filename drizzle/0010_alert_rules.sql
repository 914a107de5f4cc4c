CREATE TABLE "alert_firings" (
	"id" serial PRIMARY KEY NOT NULL,
	"rule_id" integer NOT NULL,
	"arm_seq" integer NOT NULL,
	"ticker" text NOT NULL,
	"kind" text NOT NULL,
	"threshold" numeric,
	"window_s" integer,
	"price" numeric NOT NULL,
	"tick_time" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"announced_at" timestamp with time zone,
	CONSTRAINT "alert_firings_crossing" UNIQUE("rule_id","arm_seq")
);
--> statement-breakpoint
CREATE TABLE "alert_rules" (
	"id" serial PRIMARY KEY NOT NULL,
	"ticker" text NOT NULL,
	"kind" text NOT NULL,
	"threshold" numeric,
	"window_s" integer,
	"cooldown_s" integer DEFAULT 0 NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"armed" boolean DEFAULT true NOT NULL,
	"arm_seq" integer DEFAULT 0 NOT NULL,
	"evaluated_through" timestamp with time zone,
	"last_fired_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_rules_kind" CHECK ("alert_rules"."kind" in ('above', 'below', 'move', 'high52', 'low52', 'stale'))
);
--> statement-breakpoint
CREATE INDEX "alert_firings_ticker_time" ON "alert_firings" USING btree ("ticker","tick_time");--> statement-breakpoint
CREATE INDEX "alert_rules_ticker" ON "alert_rules" USING btree ("ticker");