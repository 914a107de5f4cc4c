ALTER TABLE "symbols" ADD COLUMN "unknown_reason" text;--> statement-breakpoint
ALTER TABLE "symbols" ADD COLUMN "unknown_provider" text;--> statement-breakpoint
ALTER TABLE "symbols" ADD COLUMN "unknown_at" timestamp with time zone;