export interface Address {
  line1: string;
  city: string;
  postcode: string;
  isDefault: boolean;
}

export interface Customer {
  id: string;
  name: string;
  addresses: Address[];
}

export interface OrderSummary {
  customer: string;
  items: number;
  shipTo: string;
}

export function summarise(customer: Customer, items: number): OrderSummary {
  const address = customer.addresses.find((a) => a.isDefault)!;
  return {
    customer: customer.name,
    items,
    shipTo: `${address.line1}, ${address.postcode} ${address.city}`,
  };
}
