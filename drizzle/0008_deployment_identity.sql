CREATE TABLE "deployment_identity" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deployment_identity_one_row" CHECK ("deployment_identity"."singleton")
);
--> statement-breakpoint
-- The identity is made here, once: every later start reads it (src/namespace-claim.ts).
INSERT INTO "deployment_identity" DEFAULT VALUES;
