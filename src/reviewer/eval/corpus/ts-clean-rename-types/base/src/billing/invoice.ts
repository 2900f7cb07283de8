export interface Invoice {
  id: string;
  customerId: string;
  amount: number;
  issuedAt: Date;
  paid: boolean;
}

export function outstanding(invoices: Invoice[]): number {
  return invoices.filter((i) => !i.paid).reduce((sum, i) => sum + i.amount, 0);
}

export function formatAmount(invoice: Invoice, locale = "en-GB"): string {
  return new Intl.NumberFormat(locale, { style: "currency", currency: "EUR" }).format(
    invoice.amount / 100,
  );
}
