CREATE TABLE "stock_highlow" (
	"stock_name" text PRIMARY KEY NOT NULL,
	"high_val52wk" numeric NOT NULL,
	"low_val52wk" numeric NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stock_image_urls" (
	"stock_name" text PRIMARY KEY NOT NULL,
	"image_url" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stock_prices" (
	"stock_name" text NOT NULL,
	"price" numeric NOT NULL,
	"time" timestamp with time zone NOT NULL,
	CONSTRAINT "stock_prices_stock_name_time_pk" PRIMARY KEY("stock_name","time")
);
--> statement-breakpoint
CREATE TABLE "symbols" (
	"ticker" text PRIMARY KEY NOT NULL,
	"company_name" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL
);
