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
}

export function summarise(customer: Customer, items: number): OrderSummary {
  return { customer: customer.name, items };
}
