CREATE TABLE "stock_bars" (
	"stock_name" text NOT NULL,
	"start" timestamp with time zone NOT NULL,
	"interval_s" integer NOT NULL,
	"open" numeric NOT NULL,
	"high" numeric NOT NULL,
	"low" numeric NOT NULL,
	"close" numeric NOT NULL,
	"volume" bigint,
	"provider" text NOT NULL,
	CONSTRAINT "stock_bars_stock_name_start_interval_s_pk" PRIMARY KEY("stock_name","start","interval_s"),
	CONSTRAINT "stock_bars_prices_in_range" CHECK ("stock_bars"."low" > 0 AND "stock_bars"."high" <= 10000000 AND "stock_bars"."low" <= "stock_bars"."high")
);
