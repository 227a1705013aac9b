package knowledge

import "context"

// DemoArticles is a small help centre for a web shop, used by `baton demo` and in tests.
func DemoArticles() []ArticleInput {
	art := func(key, title string, tags []string, body string) ArticleInput {
		return ArticleInput{ExternalKey: "demo:" + key, Title: title, Tags: tags, Body: body,
			Language: "en", Status: StatusPublished, Kind: KindArticle}
	}
	return []ArticleInput{
		art("shipping", "Shipping times and costs", []string{"shipping", "delivery"}, `
Orders placed before 2 pm (CET) on a working day leave our warehouse the same day.

## Standard delivery
Standard delivery takes 2–4 working days and costs €4.95. It is free for orders over €50.

## Express delivery
Express delivery arrives the next working day when you order before 2 pm. It costs €9.95 for any order size.

## Pick-up points
You can also collect your parcel from one of 4,000 pick-up points for €2.95. We send a collection code by email when it arrives.`),

		art("international", "International shipping", []string{"shipping", "international"}, `
We ship to all EU countries, the United Kingdom, Switzerland and Norway.

## How long delivery takes abroad
Orders to EU countries such as Germany, France, Austria, Italy, Spain or the Netherlands arrive in 3–7 working days. Orders to the UK, Switzerland and Norway take 5–10 working days.

## Costs, customs and duties
Shipping within the EU costs €12.95, or is free over €100. For the UK, Switzerland and Norway it costs €19.95, and customs duties and import VAT are charged by the carrier on delivery; we cannot pay them in advance.

## Countries we don't ship to
We currently do not deliver outside Europe. Orders with a delivery address outside Europe are cancelled and refunded automatically.`),

		art("tracking", "Tracking your order", []string{"orders", "delivery"}, `
As soon as your parcel leaves the warehouse we email you a tracking link. You can also find it under **My account → Orders**.

## My order hasn't arrived yet
Orders arrive within 2–4 working days, or 3–7 working days abroad. If yours is late, open the tracking link first: it shows where the parcel is and when the carrier expects to deliver it.

## The tracking link doesn't work
Tracking information appears up to 24 hours after the shipping email. If there is still no update after two working days, contact us with your order number and we'll ask the carrier.

## My parcel says delivered but I don't have it
Check with neighbours and your building's reception, and look for a delivery card. If it hasn't turned up within 48 hours, contact us and we will open an investigation with the carrier and send a replacement or refund once it is confirmed lost.`),

		art("returns", "Returns and refunds", []string{"returns", "refunds"}, `
You can return unworn, unwashed items with their labels within 30 days of delivery.

## How to return an item
Start a return under **My account → Orders → Return items**, print the prepaid label and drop the parcel at any post office. Returns within the EU are free; from other countries the return shipping is at your cost.

## When do I get my refund?
We refund within 5 working days after your return reaches our warehouse, to the payment method you used. Your bank may take another 3–5 days to show it.

## Items that can't be returned
Underwear, swimwear with a removed hygiene strip, gift cards and personalised items cannot be returned. Worn shoes can only be returned if they are faulty.`),

		art("exchanges", "Exchanging an item for another size or colour", []string{"returns", "exchanges"}, `
We don't swap items directly. To exchange, return the item for a refund and place a new order for the size or colour you want: this is the fastest way to get it, since the new order ships straight away.

If the new item costs the same and you want us to hold it for you, write to us with your order number before you send the return.`),

		art("payment", "Payment methods", []string{"payment"}, `
We accept Visa, Mastercard, American Express, PayPal, Apple Pay, Google Pay and bank transfer.

## Paying later
With Klarna you can pay 30 days after delivery, or in three interest-free instalments, for orders from €35.

## When is my card charged?
Your card is authorised when you order and charged when the order ships. If part of an order ships later, only that part is charged then.

## My payment failed
Check the card's expiry date and that your bank allows online payments; 3-D Secure confirmation must be completed in your banking app within 10 minutes. After a failed payment no money is taken, and you can try again or choose another method.`),

		art("account", "Account and password reset", []string{"account"}, `
You can shop as a guest, but with an account you can track orders, start returns and save addresses.

## Resetting your password
Click **Forgot password?** on the sign-in page and enter your email address. We send a reset link that works for one hour. If the email doesn't arrive within a few minutes, check your spam folder.

## Changing your email address
Go to **My account → Settings**, enter the new address and confirm it with the link we send there.

## Deleting your account
Write to us from the account's email address and we delete your account and personal data within 30 days, except invoices we must keep by law.`),

		art("warranty", "Warranty and faulty items", []string{"warranty", "returns"}, `
All products have a two-year warranty against manufacturing defects from the date of delivery.

## Reporting a fault
Contact us with your order number, a short description and a photo of the fault. We reply within two working days.

## What happens next
If the fault is covered we repair or replace the item, or refund it if neither is possible. We pay the shipping both ways. Normal wear and tear, misuse and damage from washing against the care label are not covered.`),

		art("cancellation", "Cancelling or changing an order", []string{"orders"}, `
You can cancel an order free of charge until it ships.

## How to cancel
Go to **My account → Orders** and choose **Cancel order**, or write to us with your order number. The refund of a cancelled order reaches your account within 5 working days.

## Changing an order
We can change the delivery address or remove items until the order ships. Once it has shipped, it can't be changed or cancelled; you can return it for a refund instead.`),

		art("gift-cards", "Gift cards and discount codes", []string{"payment", "promotions"}, `
Gift cards are valid for three years and can be used for several orders until the balance is spent.

## Using a discount code
Enter the code at checkout in the **Discount code** field. Only one code can be used per order, and codes can't be applied to an order after it is placed.

## Gift card balance
Your remaining balance is shown at checkout when you enter the card number. Gift cards can't be exchanged for cash.`),
	}
}

// Seed imports the demo help centre (published), and embeds it. It is idempotent: seeding
// again leaves the articles unchanged.
func (s *Service) Seed(ctx context.Context) (ImportSummary, error) {
	var items []Item
	for _, a := range DemoArticles() {
		items = append(items, Item{Source: a.ExternalKey, Input: a})
	}
	return s.ImportItems(ctx, 0, "seed demo", items, ImportOptions{}, nil)
}
