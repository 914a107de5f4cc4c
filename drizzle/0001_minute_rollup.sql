CREATE TABLE "stock_prices_1m" (
	"stock_name" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"first_time" timestamp with time zone NOT NULL,
	"first_price" numeric NOT NULL,
	"last_time" timestamp with time zone NOT NULL,
	"last_price" numeric NOT NULL,
	"min_time" timestamp with time zone NOT NULL,
	"min_price" numeric NOT NULL,
	"max_time" timestamp with time zone NOT NULL,
	"max_price" numeric NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "stock_prices_1m_stock_name_bucket_pk" PRIMARY KEY("stock_name","bucket")
);
